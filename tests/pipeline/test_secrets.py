"""No secret reaches the Dagster UI: the code location, loaded as the code server loads it
with every password set in its environment, serves none of them to the webserver."""

import json
import os
import subprocess
import sys

SECRETS = {
    "DATABASE_URL": "postgresql+psycopg://app:db-pass-4f8a@db:5432/frameforge",
    "RABBITMQ_URL": "amqp://ff:mq-pass-91c2@mq:5672/%2F",
    "DAGSTER_PG_URL": "postgresql://dagster:dagster-pass-77e1@db:5432/dagster",
    "JWT_SECRET": "jwt-secret-0123456789abcdef0123456789abcdef",
    "FRAMEFORGE_SMTP_PASSWORD": "smtp-pass-5d3b",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-2b9e",
    "REDIS_URL": "redis://:redis-pass-6a0f@cache:6379/0",
}
PASSWORDS = [
    "db-pass-4f8a", "mq-pass-91c2", "dagster-pass-77e1", "jwt-secret-0123456789abcdef",
    "smtp-pass-5d3b", "aws-secret-2b9e", "redis-pass-6a0f",
]  # fmt: skip

# What the code server answers the webserver's ExternalRepository call with
# (dagster/_grpc/server.py: serialize_value(RepositorySnap.from_def(repository))).
SERVE = """
from dagster import serialize_value
from dagster._core.remote_representation.external_data import RepositorySnap
from frameforge_pipeline.definitions import defs
print(serialize_value(RepositorySnap.from_def(defs.get_repository_def())))
"""


def test_the_code_location_serves_no_secret(tmp_path):
    env = {**os.environ, **SECRETS, "FRAMEFORGE_HOME": str(tmp_path),
           "FRAMEFORGE_ENV": "production", "FRAMEFORGE_S3_RESULTS_BUCKET": "results",
           "AWS_ACCESS_KEY_ID": "AKIATEST"}  # fmt: skip
    served = subprocess.run(
        [sys.executable, "-c", SERVE], env=env, capture_output=True, text=True, timeout=120
    )
    assert served.returncode == 0, served.stderr
    snapshot = served.stdout
    assert json.loads(snapshot)  # the whole repository, as JSON
    for password in PASSWORDS:
        assert password not in snapshot
    for variable in ("DATABASE_URL", "RABBITMQ_URL"):  # shown as the variable's name
        assert variable in snapshot
