"""The application database (users, videos, jobs) as seen by sensors."""

import contextlib
import functools
from collections.abc import Iterator

import dagster as dg
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from frameforge_core.database import create_db_engine, session_factory


@functools.cache
def _engine(url: str) -> Engine:
    return create_db_engine(url)


class AppDatabase(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Sessions on the app database; its schema is migrated by the API at startup."""

    url: str

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with session_factory(_engine(self.url))() as session:
            yield session
