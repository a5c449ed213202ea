"""A run Dagster marked for retry (``dagster/will_retry=true``) whose retry never came (the
daemon lost it in an outage: "Caught an unrecoverable error while dequeuing the run") is
failed by the reconciliation once FRAMEFORGE_RETRY_OVERDUE_SECONDS (set low here) have
passed: the job shows failed with a reason to retry, its user is told (the video.job.failed
event the email is made from), and it no longer holds a running job's place. Before, it
showed running for ever."""

import datetime as dt

import dagster as dg

from frameforge_core.models import OutboxMessage, VideoJob
from frameforge_core.settings import OperationsSettings
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.sensors import job_outcome
from tests.api.routes.test_jobs import (  # noqa: F401
    awaiting_retry,
    retrying_instance,
    run_queue,
)


def reconcile(instance: dg.DagsterInstance, database, overdue_after: float) -> str:
    operations = OperationsSettings(retry_overdue_seconds=overdue_after)
    resources = {"database": database, "operations": operations}
    context = dg.build_sensor_context(instance=instance, resources=resources)
    return str(job_outcome.job_outcome_reconciliation(context).skip_message)


def test_a_run_whose_retry_never_came_is_failed_with_its_email(
    awaiting_retry,  # noqa: F811
    retrying_instance,  # noqa: F811
    defs,
    database,
    monkeypatch,
):
    instance = retrying_instance
    client, alice, job_id = awaiting_retry
    run_queue(instance, defs, database)  # the run exists: the row is submitted
    [run] = instance.get_runs()
    assert run.tags[job_runs.WILL_RETRY_TAG] == "true"
    monkeypatch.setattr(job_outcome, "RECONCILE_AFTER", dt.timedelta(0))
    path = f"/api/v1/videos/jobs/{job_id}"

    not_yet = reconcile(instance, database, overdue_after=3600)
    assert not_yet == "0 missed outcomes recorded of 1 checked"
    assert client.get(path, headers=alice).json()["status"] == "running"

    assert reconcile(instance, database, overdue_after=0) == (
        "1 missed outcomes recorded of 1 checked (1 whose retry never came)"
    )
    assert instance.get_run_by_id(run.run_id).tags[job_runs.WILL_RETRY_TAG] == "false"
    shown = client.get(path, headers=alice).json()
    assert (shown["status"], shown["error"]) == ("failed", job_runs.RETRY_OVERDUE_ERROR)
    with database.session() as session:
        row = session.query(VideoJob).filter_by(id=job_id).one()
        assert (row.status, row.error) == ("failed", job_runs.RETRY_OVERDUE_ERROR)
        [event] = session.query(OutboxMessage).filter_by(routing_key="video.job.failed").all()
        assert job_runs.RETRY_OVERDUE_ERROR in str(event.body)
    assert reconcile(instance, database, 0) == "0 missed outcomes recorded of 0 checked"
    assert client.post(f"{path}/retry", headers=alice).status_code == 202  # the user may retry


def test_a_run_whose_retry_exists_is_left_to_it(
    awaiting_retry,  # noqa: F811
    retrying_instance,  # noqa: F811
    defs,
):
    instance = retrying_instance
    [run] = instance.get_runs()
    instance.create_run_for_job(  # the retry Dagster makes, tagged with its parent
        defs.resolve_job_def("extract_video"),
        tags={**run.tags, job_runs.PARENT_RUN_TAG: run.run_id},
    )
    assert not job_runs.retry_overdue(instance, run, after=0)
