#!/usr/bin/env python
"""Start N tf.distribute workers on localhost, for trying multi-worker training on one machine.

    python scripts/launch_local_workers.py 2 -- python -m zoo train mlp --strategy multi_worker

Each worker runs CMD with ``TF_CONFIG`` naming all N workers on free localhost
ports and its own task index (worker 0 is the chief). Output lines are
prefixed with ``[worker i]``. When a worker fails the others are stopped
(they would wait forever in their collectives), as they are on Ctrl-C or
after ``--timeout`` seconds. The exit status is the first failing worker's
(124 on timeout), else 0.

The functions (``free_ports``, ``tf_config``, ``start_workers``,
``wait_workers``, ``stop_workers``) are importable for tests and notebooks.
This script imports neither TensorFlow nor dlzoo.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

__all__ = ["free_ports", "tf_config", "start_workers", "wait_workers", "stop_workers", "main"]


def free_ports(n: int) -> list[int]:
    """``n`` distinct localhost ports that are free now (held open together while picked)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("localhost", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tf_config(ports: list[int], index: int) -> str:
    """The ``TF_CONFIG`` JSON of worker ``index`` in a localhost cluster on ``ports``."""
    if not 0 <= index < len(ports):
        raise ValueError(f"invalid index={index!r}; expected 0..{len(ports) - 1} for {len(ports)} workers")
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


def start_workers(n: int, cmd: list[str], *, ports=None, env=None, stdout=None, stderr=None, indices=None):
    """Start workers ``indices`` (default all ``n``) of an ``n``-worker cluster; returns their ``Popen``s.

    Each worker is its own process group, so :func:`stop_workers` also stops
    whatever it started.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"invalid n={n!r}; expected a positive number of workers")
    if not cmd:
        raise ValueError("invalid cmd=[]; expected the worker command line after '--'")
    ports = list(ports) if ports is not None else free_ports(n)
    if len(ports) != n:
        raise ValueError(f"invalid ports={ports!r}; expected {n} ports")
    procs = []
    for i in (range(n) if indices is None else indices):
        worker_env = {**os.environ, **(env or {}), "TF_CONFIG": tf_config(ports, i)}
        procs.append(subprocess.Popen(cmd, env=worker_env, stdout=stdout, stderr=stderr, start_new_session=True))
    return procs


def stop_workers(procs, sig=signal.SIGKILL) -> None:
    """Send ``sig`` to every still-running worker's process group and reap them."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_workers(procs, timeout: float | None = None) -> list[int]:
    """Wait for all workers and return their exit codes.

    When one fails the others are stopped and reported as None; when ``timeout``
    passes, the workers still running are stopped and reported as 124.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            codes = [p.poll() for p in procs]
            if all(c is not None for c in codes):
                return codes
            if any(c not in (None, 0) for c in codes):
                stop_workers(procs)
                return codes
            if deadline is not None and time.monotonic() > deadline:
                stop_workers(procs)
                return [124 if c is None else c for c in codes]
            time.sleep(0.1)
    except BaseException:
        stop_workers(procs)
        raise


def _pump(index, stream, out):
    for line in iter(stream.readline, b""):
        out.write(f"[worker {index}] {line.decode(errors='replace')}")
        out.flush()
    stream.close()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("usage: launch_local_workers.py N [--timeout S] -- CMD [ARGS...]", file=sys.stderr)
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="launch_local_workers.py")
    parser.add_argument("n", type=int, help="number of workers")
    parser.add_argument("--timeout", type=float, help="stop all workers after this many seconds (exit 124)")
    args = parser.parse_args(argv[:split])
    cmd = argv[split + 1:]
    if args.n < 1:
        parser.error(f"invalid N={args.n}; expected a positive number of workers")
    if not cmd:
        parser.error("expected the worker command line after '--'")
    procs = start_workers(args.n, cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    pumps = [threading.Thread(target=_pump, args=(i, p.stdout, sys.stdout), daemon=True) for i, p in enumerate(procs)]
    for t in pumps:
        t.start()
    try:
        codes = wait_workers(procs, args.timeout)
    except KeyboardInterrupt:
        return 130
    for t in pumps:
        t.join(timeout=5)
    failed = [c for c in codes if c not in (0, None)]
    if failed:
        print(f"workers exited with {codes}", file=sys.stderr)
    if not failed:
        return 0
    return failed[0] if failed[0] > 0 else 128 - failed[0]  # killed by signal N: 128 + N, as shells say


if __name__ == "__main__":
    sys.exit(main())
