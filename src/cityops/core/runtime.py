"""Process-wide tuning for long-running CityOps processes (API workers, background workers, ingestion)."""

from __future__ import annotations

import gc

# Young objects collected after this many allocations, not CPython's 700: a page of 5,000 shared rows or a
# batch of reports allocates tens of thousands of short-lived dicts, and at 700 the collector ran so often
# that it took a third of the time of serving such a page.
YOUNG_GENERATION_THRESHOLD = 20_000


def tune_garbage_collector() -> None:
    """Call once the process has imported and built everything it keeps for its lifetime.

    `gc.freeze()` moves those objects (modules, the ORM's mappers, the category catalogue…) out of the
    collector's sight, so a full collection no longer walks them all again; reference counting still frees
    everything as usual — only cycles wait longer to be found.
    """
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, gen1, gen2)
