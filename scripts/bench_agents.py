"""The agents on every seed, side by side with stable-baselines3: returns and wall-clock.

    python scripts/bench_agents.py --only DQN/CartPole-v1 --seeds 0,1,2,3,4   # one row, 5 seeds, vs SB3
    python scripts/bench_agents.py --only "*/Pendulum-v1" --seeds 0,1           # a glob over ALGO/ENV
    python scripts/bench_agents.py --table                                      # the table from the saved rows
    python scripts/bench_agents.py --only PPO/CartPole-v1 --scale 0.2 --no-sb3  # shorter, dlzoo only

The measurement lives in ``agents/benchmark.py`` (``python -m agents benchmark`` runs the
same); this script is its command line with the ``benchlib`` record for scripts/bench_all.py.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
from zoo.core import quiet  # noqa: E402

quiet.install()  # TensorFlow's logs stay off the console (DLZOO_VERBOSE=1 brings them back)

from agents.benchmark import *  # noqa: E402, F403  (the old names: ROWS, bench_row, table, ...)
from agents.benchmark import add_arguments, run  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    from benchlib import emit

    run(parser.parse_args(argv), parser.error, emit=emit)


if __name__ == "__main__":
    main()
