"""The reproduce suite: ``python -m zoo reproduce --suite quick``.

An entry is a function that trains something on built-in data and returns its
figure; ``@entry`` registers it with the reference it must reach. Every module
in this package is imported to collect entries, so an area adds its entries by
adding a module here. Registered models with a recipe get an entry each
(``models.py``). A failing entry does not stop the suite: the table says why.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import importlib
import json
import os
import pkgutil
import platform
import time
import traceback
from collections.abc import Callable

from zoo.core.io import atomic_write

__all__ = ["Entry", "Result", "entry", "list_entries", "run_suite", "format_table"]

SUITES = ("quick", "full")


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    fn: Callable
    data: str
    metric: str
    reference: float
    mode: str = "max"  # "max": value must be >= reference; "min": <=
    suites: tuple = ("quick", "full")


@dataclasses.dataclass
class Result:
    name: str
    data: str
    metric: str
    value: float | None
    reference: float
    mode: str
    seconds: float
    passed: bool
    error: str | None = None
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def status(self):
        return "error" if self.error else ("pass" if self.passed else "FAIL")


_ENTRIES: dict[str, Entry] = {}


def entry(name, *, data, metric, reference, mode="max", suites=("quick", "full")):
    """Register ``fn(out_dir) -> value | dict`` as a suite entry.

    The dict holds ``value`` (compared with ``reference``) and optionally
    ``history`` (a Keras history dict: plotted as learning curves), ``images``
    (PNG paths shown in the report) and ``table`` (Markdown added to the report).
    """
    if mode not in ("max", "min"):
        raise ValueError(f"invalid mode={mode!r}; expected 'max' or 'min'")

    def decorate(fn):
        if name in _ENTRIES:
            raise ValueError(f"reproduce entry {name!r} is already registered")
        _ENTRIES[name] = Entry(name, fn, data, metric, float(reference), mode, tuple(suites))
        return fn

    return decorate


def _collect():
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def list_entries(suite="quick", only="*") -> list[Entry]:
    _collect()
    if suite not in SUITES:
        raise ValueError(f"invalid suite={suite!r}; expected one of {SUITES}")
    return [e for name, e in sorted(_ENTRIES.items()) if suite in e.suites and fnmatch.fnmatchcase(name, only)]


def _run_one(e: Entry, out_dir: str) -> Result:
    start = time.perf_counter()
    try:
        out = e.fn(out_dir)
        extra = dict(out) if isinstance(out, dict) else {"value": out}
        value = float(extra.pop("value"))
        passed = value >= e.reference if e.mode == "max" else value <= e.reference
        return Result(e.name, e.data, e.metric, value, e.reference, e.mode, time.perf_counter() - start, passed, extra=extra)
    except Exception as err:  # one failing entry must not stop the suite
        tb = traceback.format_exc(limit=3)
        return Result(e.name, e.data, e.metric, None, e.reference, e.mode, time.perf_counter() - start,
                      False, error=f"{type(err).__name__}: {err}", extra={"traceback": tb})


def run_suite(suite="quick", only="*", out_dir=None, echo=print) -> list[Result]:
    """Run every entry of ``suite`` matching ``only``; write results.json and report.md to ``out_dir``."""
    entries = list_entries(suite, only)
    if not entries:
        raise ValueError(f"no reproduce entry matches only={only!r} in suite {suite!r}")
    out_dir = out_dir or os.path.join("runs", datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S"))
    os.makedirs(out_dir, exist_ok=True)
    results = []
    for i, e in enumerate(entries, 1):
        echo(f"[{i}/{len(entries)}] {e.name} ...")
        results.append(_run_one(e, out_dir))
        r = results[-1]
        echo(f"    {r.status}: {r.metric}={_fmt(r.value)} (reference {_ref(r)}) in {r.seconds:.1f}s"
             + (f" -- {r.error}" if r.error else ""))
    write_report(results, out_dir, suite)
    return results


def _fmt(value):
    return "-" if value is None else f"{value:.4g}"


def _ref(r):
    return ("≥ " if r.mode == "max" else "≤ ") + f"{r.reference:.4g}"


def format_table(results) -> str:
    rows = [("entry", "data", "metric", "value", "reference", "status", "seconds")]
    rows += [(r.name, r.data, r.metric, _fmt(r.value), _ref(r), r.status, f"{r.seconds:.1f}") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def environment() -> dict:
    from importlib import metadata

    import keras
    import tensorflow as tf

    versions = {}
    for package in ("gymnasium", "sentencepiece", "keras-tuner", "ai-edge-litert",
                    "tensorflow-model-optimization", "scikit-learn", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        **versions,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "devices": [d.device_type for d in tf.config.list_physical_devices()],
    }


def _plot_curves(results, out_dir):
    """A learning-curve PNG for every result that returned its history."""
    from zoo.insight.diagnostics import plot_history

    for r in results:
        history = r.extra.get("history")
        if not history or r.extra.get("curves"):
            continue
        try:
            path = os.path.join(out_dir, f"{r.name}_curves.png")
            r.extra["curves"] = plot_history(history, path, title=r.name)
        except (ValueError, TypeError) as err:  # a history without plottable metrics
            r.extra["curves_error"] = str(err)


def write_report(results, out_dir, suite):
    _plot_curves(results, out_dir)
    env = environment()
    payload = {"suite": suite, "environment": env, "results": [dataclasses.asdict(r) for r in results]}
    atomic_write(os.path.join(out_dir, "results.json"), json.dumps(payload, indent=2, default=str))
    failed = [r for r in results if r.status != "pass"]
    lines = [f"# dlzoo reproduce suite: {suite}", "", format_table(results), ""]
    if failed:
        lines += ["## Not passing", ""]
        lines += [f"- **{r.name}**: " + (r.error or f"{r.metric}={_fmt(r.value)}, reference {_ref(r)}") for r in failed]
        lines.append("")
    tables = [(r.name, r.extra["table"]) for r in results if r.extra.get("table")]
    for name, table in tables:
        lines += [f"## {name}", "", table, ""]
    images = [(r.name, p) for r in results for p in r.extra.get("images", [])]
    images += [(r.name, r.extra["curves"]) for r in results if r.extra.get("curves")]
    if images:
        lines += ["## Figures", ""] + [f"![{n}]({os.path.relpath(p, out_dir)})" for n, p in images] + [""]
    lines += ["## Environment", ""] + [f"- {k}: {v}" for k, v in env.items()]
    atomic_write(os.path.join(out_dir, "report.md"), "\n".join(lines) + "\n")

