"""``GET /metrics`` for Prometheus, at the root and outside the OpenAPI document.

With ``FRAMEFORGE_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>``
(compared in constant time; 401 otherwise). Unset, it is open in development and a 404 in
production, where counts of logins, jobs and errors are not for anyone who asks.
"""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST

from frameforge_api.api.deps import SettingsDep
from frameforge_api.core.metrics import exposition
from frameforge_core.errors import NotAuthenticated, NotFound

router = APIRouter(tags=["metrics"])
_bearer = HTTPBearer(auto_error=False)


def _authorized(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Raises NotAuthenticated without the metrics token, NotFound in production when none
    is configured."""
    token = settings.metrics_token
    if token is None:
        if settings.env == "production":
            raise NotFound("no such resource")
        return
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise NotAuthenticated("the metrics token is missing or wrong")


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(_authorized)])
def metrics(request: Request) -> Response:
    """This process's metrics (every worker's in multiprocess mode), then the pipeline's
    and the notifier's, read from the application database."""
    body = exposition(request.app.state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
