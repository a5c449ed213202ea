"""The S3 store against an S3-compatible server over HTTP (moto in server mode)."""

import io

import httpx2

from frameforge_core import layout
from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.engine import zip_problems
from frameforge_pipeline.partitions import VIDEOS
from tests.pipeline.conftest import upload


def test_presigned_put_and_get_work_with_a_plain_http_client(s3_store):
    key = layout.upload_prefix("v-presigned") + "clip.mp4"
    put_url = s3_store.presigned_url("PUT", key, 900, ContentType="video/mp4")
    answer = httpx2.put(put_url, content=b"video bytes", headers={"Content-Type": "video/mp4"})
    assert answer.status_code == 200
    assert s3_store.size(key) == len(b"video bytes")
    assert httpx2.get(s3_store.presigned_url("GET", key, 900)).content == b"video bytes"
    assert s3_store.uri(key) == f"s3://{s3_store.uploads_bucket}/{key}"


def test_the_whole_graph_on_s3(s3_store, database, instance, make_clip):
    defs = build_definitions({"storage": s3_store, "database": database})
    upload(s3_store, "v-s3", make_clip("cfr.mp4", seconds=5).path)
    instance.add_dynamic_partitions(VIDEOS, ["v-s3"])
    result = defs.resolve_job_def("extract_video").execute_in_process(
        partition_key="v-s3", instance=instance
    )
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    with s3_store.open_read(layout.zip_key("v-s3")) as stream:
        assert zip_problems(io.BytesIO(stream.read())) == []
    assert len(s3_store.list_keys(layout.frames_prefix("v-s3"))) == 5
    assert s3_store.list_keys("uploads/") == ["uploads/v-s3/cfr.mp4"]  # the uploads bucket
