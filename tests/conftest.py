"""Fixture videos with known truth, generated once per session with PyAV."""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any
from unittest import mock

import cv2
import dagster as dg
import numpy as np
import pytest
from hypothesis import settings

from frameforge_core.database import create_db_engine, migrate
from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.engine.records import FrameRecord
from frameforge_pipeline.resources import AppDatabase, LocalFrameStore
from frameforge_pipeline.resources.s3_storage import S3FrameStore
from frameforge_pipeline.samples import write_clip
from tests.helpers import free_port
from tests.sample_clips import read_index

# No wall-clock deadline: timings belong in bench/, and CI machines are shared.
settings.register_profile("frameforge", deadline=None, max_examples=100)
settings.load_profile("frameforge")


class Clip:
    """A generated video and the true presentation time of each of its frames."""

    def __init__(self, path: Path, times: list[Fraction]):
        self.path, self.times = path, times


@pytest.fixture(scope="session")
def make_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Clip]:
    """``make_clip("name.mp4", **write_clip_kwargs)``, cached by name for the session."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict[str, Clip] = {}

    def make(name: str, **kwargs: Any) -> Clip:
        if name not in made:
            path = folder / name
            made[name] = Clip(path, write_clip(path, **kwargs))
        return made[name]

    return make


def garbled(video: bytes) -> bytes:
    """An MP4 whose header is fine (container, streams, duration) but whose frames are noise:
    every byte of its ``mdat`` box is 0xFF. The API takes a job for it; its run fails."""
    data, at = bytearray(video), 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"mdat":
            data[at + 8 : at + size] = b"\xff" * (size - 8)
        at += size
    return bytes(data)


@pytest.fixture(scope="session")
def undecodable_video(make_clip: Callable[..., Clip]) -> bytes:
    """A video whose header passes and whose frames cannot be decoded (``garbled``)."""
    return garbled(make_clip("undecodable.mp4", seconds=2, size=(320, 240)).path.read_bytes())


class Collector:
    """A FrameSink that keeps records and decodes which source frame each image shows."""

    def __init__(self) -> None:
        self.records: list[FrameRecord] = []
        self.images: list[np.ndarray] = []

    def write(self, record: FrameRecord, data: bytes) -> None:
        self.records.append(record)
        self.images.append(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))

    @property
    def source_indices(self) -> list[int]:
        return [read_index(image) for image in self.images]

    @property
    def times_ms(self) -> list[float]:
        return [record.timestamp_ms for record in self.records]


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Every test ends with the environment it began with: code under test exports variables
    for the processes it starts (``ensure_dagster_home`` sets ``DAGSTER_HOME``), and one left
    behind points a later test's Dagster at a removed instance."""
    with mock.patch.dict(os.environ):
        yield


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture(scope="session")
def empty_instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files of a new Dagster instance, made once per worker: Dagster creating its SQLite
    schema takes 1-2 s, a copy of the files tens of milliseconds (the report of issue 20)."""
    template = tmp_path_factory.mktemp("dagster-instance")
    with dg.instance_for_test(temp_dir=str(template)):
        pass
    return template


@pytest.fixture
def instance(empty_instance_dir: Path) -> Iterator[dg.DagsterInstance]:
    """A temporary Dagster instance of this test's own: a copy of an empty one's files, so
    nothing one test stores is seen by another."""
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as home:
        shutil.copytree(empty_instance_dir, home, dirs_exist_ok=True)
        with dg.instance_for_test(temp_dir=home) as instance:
            yield instance


@pytest.fixture
def storage(tmp_path: Path) -> LocalFrameStore:
    return LocalFrameStore(root=str(tmp_path / "store"))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def database(database_url: str) -> AppDatabase:
    """A migrated SQLite app database (tests/api overrides it with the API's own)."""
    migrate(create_db_engine(database_url))
    return AppDatabase(url=database_url)


@pytest.fixture
def defs(storage: LocalFrameStore, database: AppDatabase) -> dg.Definitions:
    """The code location bound to the test's store and app database."""
    return build_definitions({"storage": storage, "database": database})


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3-compatible HTTP endpoint on loopback: moto in server mode, started here."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    server = subprocess.Popen(
        [Path(sys.executable).with_name("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the moto S3 server did not start")
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def s3_store(moto_endpoint: str) -> S3FrameStore:
    """An S3 store on two fresh buckets of the moto server."""
    import uuid

    import boto3

    suffix = uuid.uuid4().hex[:10]
    store = S3FrameStore(
        uploads_bucket=f"uploads-{suffix}", results_bucket=f"results-{suffix}",
        endpoint_url=moto_endpoint,
    )  # fmt: skip
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    for bucket in (store.uploads_bucket, store.results_bucket):
        client.create_bucket(Bucket=bucket)
    return store


class SmtpRecorder:
    """An aiosmtpd handler that keeps what it accepts; ``refuse(n)`` makes it answer the next
    ``n`` messages with a 451 (a transient refusal, as a busy or greylisting server does)."""

    REFUSAL = "451 4.3.0 Mailbox busy, try again later"

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.messages: list[Any] = []  # email.message.EmailMessage, parsed with policy.default
        self.recipients: list[list[str]] = []
        self._refusals_left = 0

    def refuse(self, times: int) -> None:
        self._refusals_left = times

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        if self._refusals_left > 0:
            self._refusals_left -= 1
            return self.REFUSAL
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpRecorder]:
    """A real SMTP server (aiosmtpd) on a free loopback port, for this test only."""

    from aiosmtpd.controller import Controller

    port = free_port()
    recorder = SmtpRecorder("127.0.0.1", port)
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()
