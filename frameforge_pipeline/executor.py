"""The runs' executor: in process, in processes side by side, or in Kubernetes Jobs, per run.

Dagster's ``multi_or_in_process_executor`` with a third choice, dagster-k8s's
``k8s_job_executor`` (its config given under ``k8s``, checked against its own schema when a
run starts, so that dagster-k8s and the Kubernetes client are imported only by runs that use
them), and in process by default: a run launched without a choice (a backfill, the UI) runs
its steps one after the other in its own process, as every run did before segments. The job
sensor chooses per run (``segmenting.SegmentPolicy.execution``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import dagster as dg

from frameforge_pipeline.dagster_internals import executor_choices, processed_config


def _requirements(config: Mapping[str, Any]) -> Sequence[dg.ExecutorRequirement]:
    return [] if "in_process" in config else dg.multiple_process_executor_requirements()


@dg.executor(
    name="frameforge",
    config_schema=dg.Field(
        dg.Selector(  # type: ignore[no-untyped-call]
            {
                **executor_choices(),
                "k8s": dg.Field(
                    dg.Permissive(),  # type: ignore[no-untyped-call]
                    description="dagster-k8s's k8s_job_executor: each step a Kubernetes Job",
                ),
            }
        ),
        default_value={"in_process": {}},
    ),
    requirements=_requirements,
)
def step_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    if "k8s" not in init_context.executor_config:
        return dg.multi_or_in_process_executor.executor_creation_fn(init_context)  # type: ignore[misc]
    from dagster_k8s import k8s_job_executor

    given = cast("Mapping[str, object]", init_context.executor_config["k8s"])
    checked = processed_config(k8s_job_executor, given)
    return k8s_job_executor.executor_creation_fn(  # type: ignore[misc]
        init_context._replace(executor_def=k8s_job_executor, executor_config=checked)
    )
