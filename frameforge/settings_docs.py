"""The environment table of docs/configuration.md, generated from the settings models.

``python -m frameforge.settings_docs`` writes it between the page's markers
(``tests/test_settings_docs.py`` fails, with this command, when the page is behind the
models). Each model gets a heading (its docstring's first sentence) and one row a field
it declares: the variable (and the former name still read, for one release), the default,
the field's ``description``. Here, because this package is the only one that imports every
process's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from frameforge_api.core.config import Settings
from frameforge_core import settings as core
from frameforge_worker.settings import WorkerSettings

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
START, END = "<!-- env-table:start -->", "<!-- env-table:end -->"
COMMAND = "python -m frameforge.settings_docs"

# every model a process builds, in the order an operator meets them; a model's rows are the
# fields it declares itself (an inherited field is in its own model's table)
MODELS: Sequence[type[BaseSettings]] = (
    core.HomeSettings,
    core.LogSettings,
    core.DatabaseSettings,
    core.DagsterSettings,
    core.BrokerSettings,
    core.StoreSettings,
    core.LinkSettings,
    Settings,
    WorkerSettings,
    core.PictureLimitSettings,
    core.SegmentSettings,
    core.JobQuotaSettings,
    core.RetentionSettings,
    core.OperationsSettings,
    core.SupervisorSettings,
)


def names(name: str, field: FieldInfo) -> list[str]:
    """The environment names of a field, the one to write first."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    return [core.PREFIX + name.upper()]


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    return f"`{value}`" if value != "" else "empty"


def _own_fields(model: type[BaseSettings]) -> dict[str, FieldInfo]:
    inherited = {
        name for base in model.__mro__[1:] for name in getattr(base, "__pydantic_fields__", {})
    }
    return {n: f for n, f in model.model_fields.items() if n not in inherited}


def _title(model: type[BaseSettings]) -> str:
    text = " ".join((model.__doc__ or model.__name__).split()).replace("``", "`")
    return text.split(". ")[0].removesuffix(".")


def table() -> str:
    """The markdown between the markers."""
    lines: list[str] = []
    for model in MODELS:
        where = f"{model.__module__}.{model.__name__}"
        lines += ["", f"**{_title(model)}** (`{where}`)", ""]
        lines += ["| variable | default | meaning |", "|---|---|---|"]
        for name, field in _own_fields(model).items():
            first, *former = names(name, field)
            variable = f"`{first}`" + "".join(f" (formerly `{old}`)" for old in former)
            lines.append(f"| {variable} | {_default(field)} | {field.description or ''} |")
    return "\n".join([START, *lines, "", END])


def rewritten(page: str) -> str:
    """``page`` with its table replaced. Raises ValueError when the markers are missing."""
    head, start, rest = page.partition(START)
    _, end, tail = rest.partition(END)
    if not (start and end):
        raise ValueError(f"the page has no {START} ... {END} markers")
    return head + table() + tail


def main() -> None:
    PAGE.write_text(rewritten(PAGE.read_text()))
    print(f"{PAGE}: environment table written", file=sys.stderr)


if __name__ == "__main__":
    main()
