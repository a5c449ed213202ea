import gc

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
