"""The engine stays in blocks a reader can hold in their head (issue 20): no module of
``frameforge_pipeline/engine/`` over 300 lines, no function over cyclomatic complexity 15
(radon's count), and over 10 only with a ``# complexity N: why`` comment in its body."""

import re
from pathlib import Path

import pytest
from radon.complexity import cc_visit

import frameforge_pipeline.engine

ENGINE = Path(frameforge_pipeline.engine.__file__).parent
MODULES = sorted(ENGINE.glob("*.py"))
MAX_LINES = 300
MAX_COMPLEXITY = 15
EXPLAINED_ABOVE = 10


def functions(source: str):
    """Every function and method radon measures in ``source``."""
    for block in cc_visit(source):
        if hasattr(block, "methods"):  # a class: its methods count, the class does not
            yield from block.methods
        else:
            yield block


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_no_engine_module_is_long(module):
    assert len(module.read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_no_engine_function_is_complex_without_a_reason(module):
    source = module.read_text()
    lines = source.splitlines()
    for function in functions(source):
        name = f"{module.name}:{function.fullname}"
        assert function.complexity <= MAX_COMPLEXITY, f"{name} has complexity {function.complexity}"
        if function.complexity > EXPLAINED_ABOVE:
            body = "\n".join(lines[function.lineno - 1 : function.endline])
            reason = re.search(rf"# complexity {function.complexity}: \S", body)
            assert reason, f"{name} (complexity {function.complexity}) says not why"


def test_the_bars_see_every_function():
    """The measure itself works: a known function of the engine is found and counted."""
    names = {f.fullname for m in MODULES for f in functions(m.read_text())}
    assert {"extract", "FrameReader.next_frame", "interval_frames"} <= names
