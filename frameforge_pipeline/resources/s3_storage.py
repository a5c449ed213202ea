"""The object store on S3 (or any S3-compatible endpoint): production's FrameStore.

Uploads live in the uploads bucket (keys under ``uploads/``, and their confirmed copies
under ``sources/``), everything else in the results bucket. Writes go through a spooled
temporary file (memory up to 16 MiB, disk beyond) and boto3's managed transfer, which
switches to multipart for large objects.

The buckets are versioned (deploy/terraform/s3.tf): a plain DELETE only hides an object
behind a delete marker, and every earlier version stays readable by its version id. So
what this store deletes, it deletes version by version, delete markers included; what an
overwrite leaves behind expires by the buckets' lifecycle rule. On a bucket without
versioning the listing has the one version "null", and the same calls delete it.
"""

import contextlib
import functools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from frameforge_core import connection_bounds, layout
from frameforge_pipeline.resources.storage import FrameStore, check_key

_SPOOL_BYTES = 16 * 1024 * 1024


@functools.cache
def _client(endpoint_url: str | None, region: str) -> Any:
    config = Config(signature_version="s3v4", **connection_bounds.s3_options())
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


class S3FrameStore(FrameStore):
    """Objects in two buckets; credentials come from the usual AWS_* environment."""

    uploads_bucket: str
    results_bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"

    @property
    def _s3(self) -> Any:
        return _client(self.endpoint_url, self.region)

    def _locate(self, key: str) -> tuple[str, str]:
        check_key(key)
        uploads = key.startswith((layout.UPLOADS_PREFIX, layout.SOURCES_PREFIX))
        return (self.uploads_bucket if uploads else self.results_bucket), key

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[IO[bytes]]:
        bucket, name = self._locate(key)
        try:
            body = self._s3.get_object(Bucket=bucket, Key=name)["Body"]
        except ClientError as error:
            raise _missing(error, key) from None
        with contextlib.closing(body):
            yield body

    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[IO[bytes]]:
        bucket, name = self._locate(key)
        with tempfile.SpooledTemporaryFile(_SPOOL_BYTES) as spool:
            yield spool
            spool.seek(0)
            self._s3.upload_fileobj(spool, bucket, name)

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="frameforge-") as folder:
            path = Path(folder) / Path(key).name
            with self.open_read(key) as source, path.open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            yield path

    def list_keys(self, prefix: str) -> list[str]:
        bucket, name = self._locate(prefix)
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def size(self, key: str) -> int:
        bucket, name = self._locate(key)
        try:
            return int(self._s3.head_object(Bucket=bucket, Key=name)["ContentLength"])
        except ClientError as error:
            raise _missing(error, key) from None

    def delete_prefix(self, prefix: str) -> None:
        """Every version of every object under ``prefix``, and their delete markers."""
        bucket, name = self._locate(prefix)
        self._delete_versions(bucket, self._versions(bucket, name))

    def _versions(self, bucket: str, prefix: str) -> list[dict[str, str]]:
        """Key and VersionId of every version and delete marker under ``prefix``."""
        pages = self._s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix=prefix
        )
        return [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for page in pages
            for kind in ("Versions", "DeleteMarkers")
            for item in page.get(kind, [])
        ]

    def _delete_versions(self, bucket: str, versions: list[dict[str, str]]) -> None:
        for start in range(0, len(versions), 1000):
            batch = versions[start : start + 1000]
            answer = self._s3.delete_objects(
                Bucket=bucket, Delete={"Objects": batch, "Quiet": True}
            )
            if errors := answer.get("Errors"):  # Quiet: only the failures are listed
                first = errors[0]
                raise OSError(
                    f"S3 kept {len(errors)} of {len(batch)} versions in {bucket}, such as "
                    f"{first.get('Key')} ({first.get('Code')}: {first.get('Message')})"
                )

    def uri(self, key: str) -> str:
        bucket, name = self._locate(key)
        return f"s3://{bucket}/{name}"

    def move(self, source: str, target: str) -> None:
        """A server-side copy (one CopyObject: atomic, up to S3's 5 GB for a single PUT, so
        any upload) then the delete of every version of ``source``."""
        from_bucket, from_key = self._locate(source)
        bucket, name = self._locate(target)
        try:
            self._s3.copy_object(
                Bucket=bucket, Key=name, CopySource={"Bucket": from_bucket, "Key": from_key}
            )
        except ClientError as error:
            raise _missing(error, source) from None
        versions = self._versions(from_bucket, from_key)
        self._delete_versions(from_bucket, [v for v in versions if v["Key"] == from_key])

    def presigned_url(self, method: str, key: str, seconds: int, **params: str | int) -> str:
        bucket, name = self._locate(key)
        operation = {"GET": "get_object", "PUT": "put_object"}[method]
        url: str = self._s3.generate_presigned_url(
            operation, Params={"Bucket": bucket, "Key": name, **params}, ExpiresIn=seconds
        )
        return url


def _missing(error: ClientError, key: str) -> Exception:
    code = error.response.get("Error", {}).get("Code")
    if code in ("NoSuchKey", "404", "NotFound"):
        return FileNotFoundError(f"no object at {key}")
    unexpected: Exception = error
    return unexpected
