"""Process tuning: the collector is told about long-lived objects and collects young ones less often."""

from __future__ import annotations

import gc

from cityops.core.runtime import YOUNG_GENERATION_THRESHOLD, tune_garbage_collector


def test_tuning_freezes_what_exists_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        tune_garbage_collector()
        assert gc.get_freeze_count() > 1000  # modules, classes, the test session: all set aside
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # objects made afterwards are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
