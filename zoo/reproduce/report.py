"""What a suite run writes: ``results.json`` and ``report.md`` in its folder, and on request the
generated tables of ``docs/results/`` and the README's results block.

The tables are Markdown with the commit, date, machine and wall-clock above them, so that
a figure quoted anywhere can be traced to the run that made it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import re
import subprocess

from zoo.core.io import atomic_write

__all__ = ["format_table", "commit", "environment", "write_report", "write_docs", "update_readme", "README_MARKERS"]

#: The block of README.md that ``--readme`` rewrites.
README_MARKERS = ("<!-- results:start -->", "<!-- results:end -->")


def fmt(value):
    return "-" if value is None else f"{value:.4g}"


def ref(r):
    return ("≥ " if r.mode == "max" else "≤ ") + f"{r.reference:.4g}"


def _spread(r):
    """``± std (worst w)`` over the seeds an entry ran on; empty for one seed."""
    if len(r.values) < 2:
        return ""
    return f" ± {fmt(r.std)} (worst {fmt(r.worst)})"


def format_table(results, markdown=False) -> str:
    """The results as a table: aligned for the console, or GitHub Markdown (names in backticks)."""
    rows = [("entry", "data", "metric", "value", "reference", "status", "seconds")]
    for r in results:
        name = f"`{r.name}`" if markdown else r.name
        metric = r.metric.replace("|", "\\|") if markdown else r.metric
        seeds = f", {len(r.values)} seeds" if len(r.values) > 1 else ""
        rows.append((name, r.data, metric + seeds, fmt(r.value) + _spread(r), ref(r), r.status, f"{r.seconds:.1f}"))
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in rows]
        lines.insert(1, "|---|---|---|---:|---|---|---:|")
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def commit() -> str:
    """This checkout's short commit, noting uncommitted changes to tracked files ("unknown" outside git)."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                              cwd=os.path.dirname(os.path.abspath(__file__)))
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10, cwd=os.path.dirname(os.path.abspath(__file__)))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if done.returncode:
        return "unknown"
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


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
        "commit": commit(),
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


def _not_passing(results) -> list[str]:
    return [f"- **`{r.name}`**: " + (r.error or f"{r.metric}={fmt(r.value)}, reference {ref(r)}")
            for r in results if r.status != "pass"]


def summary_line(suite, results, env, wall_seconds) -> str:
    minutes, seconds = divmod(round(wall_seconds), 60)
    devices = ", ".join(d for d in env["devices"] if d != "CPU") or "no GPU"
    return (f"`python -m zoo reproduce --suite {suite}` on {env['date'][:10]} at commit {env['commit']}, "
            f"{env['machine']} ({devices}), TensorFlow {env['tensorflow']}, Keras {env['keras']}: "
            f"{len(results)} entries in {minutes} min {seconds} s wall-clock.")


def write_report(results, out_dir, suite, wall_seconds=0.0) -> dict:
    """``results.json`` and ``report.md`` (table, what did not pass, entry tables, figures, environment)."""
    _plot_curves(results, out_dir)
    env = environment()
    payload = {"suite": suite, "environment": env, "wall_seconds": wall_seconds,
               "results": [dataclasses.asdict(r) for r in results]}
    atomic_write(os.path.join(out_dir, "results.json"), json.dumps(payload, indent=2, default=str))
    lines = [f"# dlzoo reproduce suite: {suite}", "", summary_line(suite, results, env, wall_seconds), "",
             format_table(results, markdown=True), ""]
    failed = _not_passing(results)
    if failed:
        lines += ["## Not passing", "", *failed, ""]
    for r in results:
        if r.extra.get("table"):
            lines += [f"## {r.name}", "", r.extra["table"], ""]
    images = [(r.name, p) for r in results for p in r.extra.get("images", [])]
    images += [(r.name, r.extra["curves"]) for r in results if r.extra.get("curves")]
    if images:
        lines += ["## Figures", ""] + [f"![{n}]({os.path.relpath(p, out_dir)})" for n, p in images] + [""]
    lines += ["## Environment", ""] + [f"- {k}: {v}" for k, v in env.items()]
    atomic_write(os.path.join(out_dir, "report.md"), "\n".join(lines) + "\n")
    return env


def write_docs(results, docs_dir, suite, env, wall_seconds) -> str:
    """``docs_dir/SUITE.md`` (summary line, table, what did not pass) and ``SUITE.json`` (figures and
    seconds per entry: the next run's time estimates). Returns the Markdown."""
    failed = _not_passing(results)
    text = "\n".join([f"# Reproduce suite: {suite}", "", "Generated by the run it describes; do not edit.", "",
                      summary_line(suite, results, env, wall_seconds), "", format_table(results, markdown=True),
                      *([""] + failed if failed else [])]) + "\n"
    os.makedirs(docs_dir, exist_ok=True)
    atomic_write(os.path.join(docs_dir, f"{suite}.md"), text)
    record = {"suite": suite, "environment": env, "wall_seconds": wall_seconds,
              "results": {r.name: {"value": r.value, "values": r.values, "reference": r.reference,
                                   "status": r.status, "seconds": round(r.seconds, 1)} for r in results}}
    atomic_write(os.path.join(docs_dir, f"{suite}.json"), json.dumps(record, indent=2, default=str) + "\n")
    return text


def update_readme(readme, results, suite, env, wall_seconds, docs_link) -> None:
    """Rewrite the block between :data:`README_MARKERS` of ``readme`` with this run's table."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    start, end = README_MARKERS
    if start not in text or end not in text:
        raise ValueError(f"invalid readme={readme!r}; expected a file with the markers {start} and {end}")
    block = [start, summary_line(suite, results, env, wall_seconds) + f" Generated; the latest run: [{docs_link}]"
             f"({docs_link}).", "", format_table(results, markdown=True), ""]
    failed = _not_passing(results)
    block += (["Not passing:", *failed, ""] if failed else []) + [end]
    new = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: "\n".join(block), text, flags=re.S)
    atomic_write(readme, new)
