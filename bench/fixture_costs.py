"""What the tests' per-test fixtures cost, and what sharing them per xdist worker would save.

    python bench/fixture_costs.py [--runs 8] [--postgres]

Every test that uses them gets a new Dagster instance, a new app database (Alembic's
upgrade) and a new API app. Measured here, interleaved in rounds, medians:

- a Dagster instance made by ``dg.instance_for_test()`` (Dagster creates its SQLite schema),
  against a copy of the files of one made once (what tests/conftest.py's ``instance`` does);
- Alembic's upgrade of a new SQLite app database, against a copy of a migrated file;
- ``create_app`` on a database already at head (what is left of a client fixture);
- with ``--postgres``: a new PostgreSQL database with a Dagster instance on it (the
  integration tests' ``pg_instance``), against ``CREATE DATABASE ... TEMPLATE`` of one
  made once.

Prints each median and the ratio of the shared variant to the per-test one (under 1 is
cheaper). Multiply the difference by the number of tests using the fixture (pytest
--collect-only) for what a run saves.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_core.database import create_db_engine, migrate
from frameforge_pipeline.resources import LocalFrameStore

PG_ADMIN = "postgresql://127.0.0.1:5432/test"


def _rounds(variants: dict[str, Callable[[], None]], runs: int) -> dict[str, float]:
    for make in variants.values():
        make()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, make in variants.items():
            start = time.perf_counter()
            make()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _show(title: str, medians: dict[str, float]) -> None:
    (per_test, a), (shared, b) = medians.items()
    print(f"{title}\n  {per_test}: {a * 1000:.0f} ms\n  {shared}: {b * 1000:.0f} ms")
    print(f"  ratio {b / a:.3f}; saves {(a - b) * 1000:.0f} ms a test")


def sqlite(root: Path, runs: int) -> None:
    template = root / "instance"
    template.mkdir()
    with dg.instance_for_test(temp_dir=str(template)):
        pass

    def copied_instance() -> None:
        home = root / uuid.uuid4().hex
        shutil.copytree(template, home)
        with dg.instance_for_test(temp_dir=str(home)):
            pass

    def new_instance() -> None:
        with dg.instance_for_test():
            pass

    _show(
        "Dagster instance (SQLite)",
        _rounds({"new": new_instance, "copy of one made once": copied_instance}, runs),
    )

    migrated = root / "migrated.db"
    migrate(create_db_engine(f"sqlite:///{migrated}"))

    def upgrade() -> None:
        migrate(create_db_engine(f"sqlite:///{root / uuid.uuid4().hex}.db"))

    def copied_database() -> None:
        shutil.copy(migrated, root / f"{uuid.uuid4().hex}.db")

    _show(
        "app database (SQLite)",
        _rounds({"Alembic upgrade": upgrade, "copy of a migrated one": copied_database}, runs),
    )

    settings = Settings(JWT_SECRET="b" * 40)
    with dg.instance_for_test() as instance:
        store = LocalFrameStore(root=str(root / "store"))
        url = f"sqlite:///{migrated}"

        def build() -> None:
            create_app(settings, instance, store, url)

        built = _rounds({"create_app": build}, runs)
    print(f"API app on a database at head\n  create_app: {built['create_app'] * 1000:.0f} ms")


def postgres(runs: int) -> None:
    import psycopg

    def sql(statement: str) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(statement)

    def instance_on(name: str) -> None:
        url = f"postgresql+psycopg2://127.0.0.1:5432/{name}"
        with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": url}}}):
            pass

    made: list[str] = []

    def database(template: str | None = None) -> str:
        name = f"frameforge_bench_{uuid.uuid4().hex[:12]}"
        sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        made.append(name)
        return name

    template = database()
    instance_on(template)
    try:
        _show(
            "Dagster instance (PostgreSQL)",
            _rounds(
                {
                    "new database, new instance": lambda: instance_on(database()),
                    "database copied from a template": lambda: instance_on(database(template)),
                },
                runs,
            ),
        )
    finally:
        for name in made:
            sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        sqlite(Path(root), args.runs)
    if args.postgres:
        postgres(max(3, args.runs // 2))


if __name__ == "__main__":
    main()
