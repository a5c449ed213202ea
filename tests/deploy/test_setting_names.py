"""The files an operator copies name every setting as it is now: none names a former one
(``SMTP_HOST`` for ``FRAMEFORGE_SMTP_HOST``), which the processes still read for one release
with a warning. The former names are the settings models' own (``former_names``)."""

from __future__ import annotations

import re

from frameforge import settings_docs
from frameforge_core.settings import former_names
from tests.deploy.tools import REPO

# what an operator copies or renders: compose and its .env example, the mounted Dagster
# files, both charts' values and our chart's templates, Terraform, the image
DEPLOYMENT_FILES = sorted(
    {
        *(REPO / name for name in ("compose.yaml", "Dockerfile", "dagster.yaml", "workspace.yaml")),
        *(path for top in ("deploy", "helm-values") for path in (REPO / top).rglob("*")),
    }
)


def names_now() -> dict[str, str]:
    """Every process's former names (settings_docs imports every process's models)."""
    assert settings_docs.MODELS
    return former_names()


def test_no_deployment_file_names_a_former_setting() -> None:
    renamed = names_now()
    assert "SMTP_HOST" in renamed  # the worker's models are among them
    former = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, renamed)) + r")\b")
    files = [p for p in DEPLOYMENT_FILES if p.is_file() and p.suffix != ".md"]
    assert len(files) > 20
    found = [
        f"{path.relative_to(REPO)}:{number}: {match[1]} (now {renamed[match[1]]})"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for match in former.finditer(line)
    ]
    assert not found, "\n".join(found)
