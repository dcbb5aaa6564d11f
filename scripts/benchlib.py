"""Shared by scripts/bench_*.py: alternating timing, median ratios, one result format.

Machines are shared and noisy, so both sides are timed in the same run,
alternately, and only the median ratio is reported. ``emit`` prints the rows
and, when ``DLZOO_BENCH_JSON`` names a file (scripts/bench_all.py sets it),
appends them there as JSON lines for the combined table.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable


def alternate(candidates: dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1) -> dict[str, list]:
    """Time each callable ``repeats`` times, interleaved (A B A B ...), after ``warmup`` untimed calls."""
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def median_ratio(ours: list, peer: list) -> float:
    """Median of per-round ratios ours/peer (< 1 means we are faster)."""
    return statistics.median(a / b for a, b in zip(ours, peer))


def emit(benchmark: str, rows: list[dict]):
    """Print rows (dicts with at least ``measure``, ``peer`` and ``ratio``) and record them."""
    for row in rows:
        row = {"benchmark": benchmark, **row}
        extras = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("benchmark", "measure", "peer", "ratio"))
        print(f"{benchmark}: {row['measure']}: ratio vs {row['peer']} = {row['ratio']:.3g}" + (f" ({extras})" if extras else ""))
        path = os.environ.get("DLZOO_BENCH_JSON")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps(row, default=str) + "\n")
