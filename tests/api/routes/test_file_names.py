"""Jobs are told apart by the file they were made of: its name is in the job's JSON, the
manifest and the Dagster run's tags from submission on, and names the download."""

import io
import json
import zipfile

from werkzeug.http import parse_options_header

from frameforge_pipeline.gateway import job_runs
from tests.api.routes.test_jobs import create_job, run_queue

HOSTILE = 'Ünïcödé "clip"; filename=evil.exe ../動画.mp4'


def test_the_file_name_names_the_job_its_manifest_its_run_and_its_download(
    client, alice, upload, make_clip, instance, defs, database
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes(), filename=HOSTILE)
    job_id = create_job(client, alice, video_id).json()["jobId"]
    assert client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()["fileName"] == HOSTILE
    [request] = run_queue(instance, defs, database)
    assert request.tags[job_runs.FILE_NAME_TAG] == HOSTILE  # from submission, before any step

    done = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert (done["status"], done["fileName"]) == ("completed", HOSTILE)
    [listed] = client.get("/api/v1/videos/jobs", headers=alice).json()["items"]
    assert listed["fileName"] == HOSTILE
    again = create_job(client, alice, video_id)  # the same rendition: the job as GET shows it
    assert (again.status_code, again.json()["fileName"]) == (200, HOSTILE)

    archive = client.get(done["downloadUrl"])
    header = archive.headers["content-disposition"]
    assert header.isascii()
    assert parse_options_header(header) == (
        "attachment",
        {"filename": "動画-frames.zip"},  # the last path segment, without its extension
    )
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert json.loads(opened.read("manifest.json"))["file_name"] == HOSTILE
