from fastapi import APIRouter
from sqlalchemy import text

from frameforge_api.api.deps import InstanceDep, SessionDep
from frameforge_core.errors import Unavailable
from frameforge_pipeline.gateway.daemon_health import daemon_problems

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready")
def ready(session: SessionDep, instance: InstanceDep) -> dict[str, str]:
    """Readiness: the database and the Dagster instance answer, and the Dagster daemon is
    alive with its sensors working. 503 naming what is not."""
    checks = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        raise Unavailable(f"database unreachable: {type(error).__name__}") from None
    try:
        instance.get_runs(limit=1)
        checks["dagster"] = "ok"
        problems = daemon_problems(instance)
    except Exception as error:
        raise Unavailable(f"Dagster instance unreachable: {type(error).__name__}") from None
    if problems:
        raise Unavailable("; ".join(problems))
    checks["daemon"] = "ok"
    return {"status": "ok", **checks}
