"""What determinism costs: the same work with op determinism on (dlzoo's default) and off.

    python scripts/bench_determinism.py [--repeats 3] [--only recipe,augment]

Each measurement is a fresh process (op determinism cannot be turned off once on), with
``DLZOO_DETERMINISTIC`` 1 or 0, alternately; the ratio is the median of on / off (> 1: slower).
Workloads: ``recipe`` trains ``simple_cnn``'s recipe on digits at 32x32 (model steps);
``augment`` runs four epochs of a batched digits pipeline through random translation and
rotation (a map with random ops, which determinism runs serially). Each run also prints its
figure, so that the on-runs can be seen to agree with each other.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from benchlib import alternate, emit, median_ratio

WORKLOADS = {
    "recipe": """
from zoo.training import train_recipe
t = time.perf_counter()
r = train_recipe("simple_cnn", seed=0)
out = dict(seconds=time.perf_counter() - t, figure=r.test["accuracy"])
""",
    "augment": """
import numpy as np
from zoo.data import load
from zoo.data.pipeline import as_dataset, augmentation
from zoo.core.seeding import seed_everything
seed_everything(0)
(x, y) = load("digits", image_size=32, channels=3).train
ds = as_dataset(x, y, batch_size=32, seed=0, augment=augmentation(translate=0.1, rotate=0.05, seed=0))
t = time.perf_counter()
total = sum(float(np.sum(xb)) for _ in range(4) for xb, _ in ds)
out = dict(seconds=time.perf_counter() - t, figure=total)
""",
}


def run(workload, deterministic):
    code = "import json, time\n" + WORKLOADS[workload] + "print('RESULT', json.dumps(out))\n"
    env = dict(os.environ, DLZOO_DETERMINISTIC="1" if deterministic else "0")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated: " + ", ".join(WORKLOADS))
    args = parser.parse_args(argv)
    rows = []
    for workload in args.only.split(","):
        seen = {True: [], False: []}

        def timed(flag, workload=workload, seen=seen):
            result = run(workload, flag)
            seen[flag].append(result)
            return result

        alternate({"on": lambda: timed(True), "off": lambda: timed(False)}, repeats=args.repeats, warmup=0)
        on = [r["seconds"] for r in seen[True]]
        off = [r["seconds"] for r in seen[False]]
        figures_on = sorted({round(r["figure"], 12) for r in seen[True]})
        print(f"{workload}: on {[round(s, 2) for s in on]} s, off {[round(s, 2) for s in off]} s; "
              f"figures with determinism {figures_on}, without {sorted({round(r['figure'], 12) for r in seen[False]})}")
        rows.append(dict(measure=f"{workload} seconds, determinism on / off", peer="dlzoo, DLZOO_DETERMINISTIC=0",
                         ratio=median_ratio(on, off), repeats=args.repeats, identical_on=len(figures_on) == 1))
    emit("determinism", rows)


if __name__ == "__main__":
    main()
