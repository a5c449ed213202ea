"""S3 refusing to store results: the job fails with a clear status, keeps its upload, and a
retry once S3 is back resumes from the step that failed."""

import boto3
import httpx2

from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.resources import AppDatabase
from tests.api.routes.test_jobs import run_queue
from tests.integration.test_s3 import s3_api  # noqa: F401


def test_results_bucket_failing_fails_the_job_clearly_and_retry_recovers(
    s3_api,  # noqa: F811
    s3_store,
    instance,
    database_url,
    make_clip,
):
    client, headers = s3_api
    slot = client.post("/api/v1/videos/upload-url", json={"filename": "a.mp4"}, headers=headers)
    data = make_clip("cfr.mp4", seconds=5).path.read_bytes()
    put = slot.json()
    assert httpx2.put(put["uploadUrl"], content=data, headers=put["headers"]).status_code == 200
    job_id = client.post(
        "/api/v1/videos/jobs", json={"videoId": put["videoId"]}, headers=headers
    ).json()["jobId"]

    s3 = boto3.client("s3", endpoint_url=s3_store.endpoint_url, region_name="us-east-1")
    s3.delete_bucket(Bucket=s3_store.results_bucket)  # every write of a result now fails
    database = AppDatabase(url=database_url)
    defs = build_definitions({"storage": s3_store, "database": database})
    run_queue(instance, defs, database)
    failed = client.get(f"/api/v1/videos/jobs/{job_id}", headers=headers).json()
    assert failed["status"] == "failed"
    assert failed["error"].startswith("processing failed unexpectedly in step frames")
    assert "retry the job" in failed["error"]
    assert "NoSuchBucket" not in failed["error"]  # internals stay with the operators

    s3.create_bucket(Bucket=s3_store.results_bucket)
    assert client.post(f"/api/v1/videos/jobs/{job_id}/retry", headers=headers).status_code == 202
    [request] = run_queue(instance, defs, database)
    assert "source_video" not in {key.to_user_string() for key in request.asset_selection}
    done = client.get(f"/api/v1/videos/jobs/{job_id}", headers=headers).json()
    assert (done["status"], done["frameCount"]) == ("completed", 5)
