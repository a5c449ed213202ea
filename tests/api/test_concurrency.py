"""More requests at once than the database pool has connections: none waits for a connection
held by a request that itself waits for a thread (which ended in 500s after the pool's
timeout: every thread of the pool blocked on a connection, every connection on a thread)."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_core import database
from tests.api.conftest import PASSWORD, served

CONCURRENT = 96  # more than the server's 40 threads
POOL = 2


@pytest.fixture
def api(instance, storage, database_url, monkeypatch) -> Iterator[str]:
    """The app on uvicorn in a thread, its database pool cut down to POOL connections."""
    monkeypatch.setattr(database, "POOL_SIZE", POOL)
    monkeypatch.setattr(database, "MAX_OVERFLOW", 0)
    settings = Settings(JWT_SECRET="c" * 40)
    with served(lambda _: create_app(settings, instance, storage, database_url)) as url:
        yield url


def test_more_requests_than_connections_are_all_answered(api):
    account = {"email": "many@example.com", "password": PASSWORD}
    assert httpx.post(f"{api}/api/v1/auth/register", json=account).status_code == 201
    token = httpx.post(f"{api}/api/v1/auth/login", json=account).json()["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}

    def ask(_: int) -> int:
        return httpx.get(f"{api}/api/v1/videos/jobs", headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(CONCURRENT) as pool:
        statuses = list(pool.map(ask, range(CONCURRENT)))
    assert statuses == [200] * CONCURRENT
