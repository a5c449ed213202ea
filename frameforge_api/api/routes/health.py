from fastapi import APIRouter
from sqlalchemy import text

from frameforge_api.api.deps import InstanceDep, SessionDep
from frameforge_core.errors import TemporarilyUnavailable, Unavailable

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready")
def ready(session: SessionDep, instance: InstanceDep) -> dict[str, str]:
    """Readiness: what the API needs answers, the app database and the Dagster instance
    (each within its bound). 503 naming what does not. The Dagster daemon is not the API's
    need: its health is the metric ``frameforge_dagster_daemon_up``."""
    checks = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        raise Unavailable(f"database unreachable: {type(error).__name__}") from None
    try:
        instance.get_runs(limit=1)
        checks["dagster"] = "ok"
    except TemporarilyUnavailable:
        raise
    except Exception as error:
        raise Unavailable(f"Dagster instance unreachable: {type(error).__name__}") from None
    return {"status": "ok", **checks}
