"""``GET /metrics`` for Prometheus, at the root and outside the OpenAPI document."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from frameforge_api.core.metrics import exposition

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """This process's metrics (every worker's in multiprocess mode), then the pipeline's
    and the notifier's, read from the application database."""
    body = exposition(request.app.state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
