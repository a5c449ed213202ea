import gc
import subprocess
import sys

import pytest

from frameforge_core.heap import long_lived


def test_the_collector_is_paused_inside_and_restored_after():
    assert gc.isenabled()
    with long_lived():
        assert not gc.isenabled()
        made = [object()]
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert made


def test_a_collector_off_before_stays_off_and_a_failure_restores_it():
    gc.disable()
    try:
        with long_lived():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), long_lived():
        raise RuntimeError("the build failed")
    assert gc.isenabled()


@pytest.mark.parametrize(
    "entry_point",
    [
        "from frameforge_api.main import app",  # what uvicorn serves
        "import frameforge_pipeline.definitions",  # what every Dagster process loads
    ],
)
def test_a_process_entry_point_leaves_the_collector_on_and_its_objects_frozen(
    entry_point, tmp_path
):
    """Each full collection would otherwise walk them (~0.1 s, a stall of the process)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import gc; {entry_point}; print(gc.isenabled(), gc.get_freeze_count())",
        ],
        env={"FRAMEFORGE_HOME": str(tmp_path), "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    enabled, frozen = done.stdout.split()
    assert enabled == "True"
    assert int(frozen) > 100_000
