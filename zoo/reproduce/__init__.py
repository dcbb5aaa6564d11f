"""The reproduce suite: ``python -m zoo reproduce --suite quick``.

An entry is a function that trains something on built-in data and returns its
figure; ``@entry`` registers it with the reference it must reach. Every module
in this package is imported to collect entries, so an area adds its entries by
adding a module here. Registered models with a recipe get an entry each
(``models.py``). A failing entry does not stop the suite: the table says why.

Every entry runs in :func:`zoo.core.seeding.fresh_state`: a cleared Keras
session, every seed set, op determinism on, so its figure is the same alone or
after any other entry. A *seeded* entry (``seeded=True``, e.g. every recipe)
takes ``seed=`` and runs on each seed of the suite: seed 0 in the quick suite,
0, 1 and 2 in the full one, where its value is the mean and it passes only if
its worst seed reaches the reference.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import importlib
import json
import os
import pkgutil
import statistics
import time
import traceback
from collections.abc import Callable

from zoo.reproduce.report import fmt, format_table, ref, update_readme, write_docs, write_report

__all__ = ["Entry", "Result", "entry", "list_entries", "run_suite", "format_table", "SUITES", "SEEDS"]

SUITES = ("quick", "full")

#: The seeds a seeded entry runs on, per suite.
SEEDS = {"quick": (0,), "full": (0, 1, 2)}


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    fn: Callable
    data: str
    metric: str
    reference: float
    mode: str = "max"  # "max": value must be >= reference; "min": <=
    suites: tuple = ("quick", "full")
    seeded: bool = False  # fn takes seed= and runs on every seed of the suite


@dataclasses.dataclass
class Result:
    name: str
    data: str
    metric: str
    value: float | None  # the mean over the seeds it ran on
    reference: float
    mode: str
    seconds: float
    passed: bool
    error: str | None = None
    extra: dict = dataclasses.field(default_factory=dict)
    values: dict = dataclasses.field(default_factory=dict)  # seed -> value (one item for an unseeded entry)

    @property
    def status(self):
        return "error" if self.error else ("pass" if self.passed else "FAIL")

    @property
    def std(self):
        return statistics.pstdev(self.values.values()) if len(self.values) > 1 else 0.0

    @property
    def worst(self):
        if not self.values:
            return None
        return (min if self.mode == "max" else max)(self.values.values())


_ENTRIES: dict[str, Entry] = {}


def entry(name, *, data, metric, reference, mode="max", suites=("quick", "full"), seeded=False):
    """Register ``fn(out_dir) -> value | dict`` (``fn(out_dir, seed)`` when ``seeded``) as a suite entry.

    The dict holds ``value`` (compared with ``reference``) and optionally
    ``history`` (a Keras history dict: plotted as learning curves), ``images``
    (PNG paths shown in the report) and ``table`` (Markdown added to the report).
    """
    if mode not in ("max", "min"):
        raise ValueError(f"invalid mode={mode!r}; expected 'max' or 'min'")

    def decorate(fn):
        if name in _ENTRIES:
            raise ValueError(f"reproduce entry {name!r} is already registered")
        _ENTRIES[name] = Entry(name, fn, data, metric, float(reference), mode, tuple(suites), bool(seeded))
        return fn

    return decorate


def _collect():
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def list_entries(suite="quick", only="*") -> list[Entry]:
    """The entries of ``suite`` matching ``only``: glob patterns separated by commas, run in that order
    (``"lstm,mlp"`` runs lstm first; the entries one pattern matches come in name order)."""
    from zoo.core.checks import check_choice, fail

    _collect()
    check_choice("suite", suite, SUITES)
    if not isinstance(only, str):
        fail("only", only, "a string of glob patterns separated by commas, such as 'lstm,mlp*'", error=TypeError)
    chosen = []
    for pattern in (p.strip() for p in only.split(",")):
        for name, e in sorted(_ENTRIES.items()):
            if suite in e.suites and fnmatch.fnmatchcase(name, pattern) and e not in chosen:
                chosen.append(e)
    return chosen


def _run_one(e: Entry, out_dir: str, seeds) -> Result:
    from zoo.core.seeding import fresh_state

    start = time.perf_counter()
    values, extra = {}, {}
    try:
        for seed in seeds if e.seeded else (0,):
            with fresh_state(seed):
                out = e.fn(out_dir, seed=seed) if e.seeded else e.fn(out_dir)
            out = dict(out) if isinstance(out, dict) else {"value": out}
            values[seed] = float(out.pop("value"))
            extra = extra or out  # the first seed's history, tables and figures
        if len(values) > 1:
            extra["values_by_seed"] = values
        value = statistics.fmean(values.values())
        result = Result(e.name, e.data, e.metric, value, e.reference, e.mode, time.perf_counter() - start, False,
                        extra=extra, values=values)
        result.passed = result.worst >= e.reference if e.mode == "max" else result.worst <= e.reference
        return result
    except Exception as err:  # one failing entry must not stop the suite
        tb = traceback.format_exc(limit=3)
        return Result(e.name, e.data, e.metric, None, e.reference, e.mode, time.perf_counter() - start,
                      False, error=f"{type(err).__name__}: {err}", extra={"traceback": tb}, values=values)


def _clock(seconds) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def _expected_seconds(docs_dir, suite) -> dict:
    """Seconds per entry in the last run recorded in ``docs_dir`` (for the time estimates)."""
    try:
        with open(os.path.join(docs_dir or "", f"{suite}.json"), encoding="utf-8") as f:
            return {name: r["seconds"] for name, r in json.load(f)["results"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def run_suite(suite="quick", only="*", out_dir=None, echo=print, docs_dir=None, readme=None) -> list[Result]:
    """Run every entry of ``suite`` matching ``only``; write results.json and report.md to ``out_dir``.

    ``docs_dir``: also write the generated tables there (``SUITE.md``, ``SUITE.json``), and with
    ``readme`` rewrite its results block, when the whole suite ran (``only="*"``). ``echo`` gets
    one line per entry as it ends: its figure, time so far and an estimate of the time left.
    """
    entries = list_entries(suite, only)
    if not entries:
        raise ValueError(f"no reproduce entry matches only={only!r} in suite {suite!r}")
    out_dir = out_dir or os.path.join("runs", datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S"))
    os.makedirs(out_dir, exist_ok=True)
    expected = _expected_seconds("docs/results" if docs_dir is None else docs_dir, suite)
    results, start = [], time.perf_counter()
    live = echo is print  # on the console the line starts when the entry does and ends with its figure
    for i, e in enumerate(entries, 1):
        head = f"[{i}/{len(entries)}] {e.name}: "
        if live:
            print(head, end="", flush=True)
        results.append(_run_one(e, out_dir, SEEDS[suite]))
        r, elapsed = results[-1], time.perf_counter() - start
        rest = entries[i:]
        known = [expected[x.name] for x in rest if x.name in expected]
        left = sum(known) + elapsed / i * (len(rest) - len(known))
        line = (f"{r.status} {r.metric}={fmt(r.value)} ({ref(r)}) in {r.seconds:.1f}s · {_clock(elapsed)} elapsed, "
                f"about {_clock(left)} left" + (f" -- {r.error}" if r.error else ""))
        echo(line if live else head + line)
    wall = time.perf_counter() - start
    env = write_report(results, out_dir, suite, wall)
    if docs_dir and only == "*":
        write_docs(results, docs_dir, suite, env, wall)
        if readme:
            update_readme(readme, results, suite, env, wall, os.path.join(docs_dir, f"{suite}.md"))
    return results
