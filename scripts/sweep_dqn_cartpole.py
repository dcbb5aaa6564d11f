"""DQN on CartPole-v1, one recipe on many seeds, as the table of docs/agents.md#what-changed-to-get-there.

Each seed runs in its own process on one thread (``--jobs`` at a time) with the benchmark's protocol
(``agents.benchmark.run_ours``):
50k steps, the final policy and the kept one (best of 10 evaluations of 5 episodes) measured on the
same 10 greedy episodes (env seed = seed + 1000). One JSON line per seed goes to ``--out``::

    python scripts/sweep_dqn_cartpole.py --label gs64_bs128 --seeds 0-19 \\
        --config '{"gradient_steps": 64, "batch_size": 128}'

``--sb3`` runs stable-baselines3's DQN on the same settings instead (no double Q: SB3 has none).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ENV_ID, STEPS = "CartPole-v1", 50_000


def one_seed(seed: int, config: dict, sb3: bool = False) -> dict:
    """Train and measure one seed in this process (one TensorFlow or torch thread), as the benchmark does;
    ``sb3``: stable-baselines3's DQN with the same settings (``agents.benchmark.run_sb3``, no double Q)."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from agents.benchmark import run_ours, run_sb3

    if sb3:
        import torch

        import agents

        torch.set_num_threads(1)
        seconds, final, kept = run_sb3("DQN", ENV_ID, STEPS, seed, agents.make("DQN", ENV_ID, seed=seed, **config).config)
    else:
        seconds, final, kept, _ = run_ours("DQN", ENV_ID, STEPS, seed, **config)
    return dict(seed=seed, config=config, final=round(float(final), 1), kept=round(float(kept), 1),
                seconds=round(seconds, 1))


def parse_seeds(text: str) -> list[int]:
    """``0-4,7`` -> [0, 1, 2, 3, 4, 7]."""
    seeds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="{}", help="JSON of DQN settings over dlzoo's defaults for the env")
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5")
    parser.add_argument("--label", default="default", help="the recipe's name in the output")
    parser.add_argument("--jobs", type=int, default=2, help="processes at a time (one thread each)")
    parser.add_argument("--out", default="runs/sweep_dqn_cartpole.jsonl")
    parser.add_argument("--sb3", action="store_true", help="stable-baselines3's DQN with the same settings")
    parser.add_argument("--one-seed", type=int, help=argparse.SUPPRESS)  # the worker process
    args = parser.parse_args()
    config = json.loads(args.config)
    if args.one_seed is not None:
        print(json.dumps(one_seed(args.one_seed, config, args.sb3)), flush=True)
        return
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)

    def run(seed):
        command = [sys.executable, __file__, "--one-seed", str(seed), "--config", args.config] + ["--sb3"] * args.sb3
        line = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        line["label"], line["library"] = args.label, "sb3" if args.sb3 else "dlzoo"
        with open(args.out, "a") as f:
            f.write(json.dumps(line) + "\n")
        print(f"{args.label} seed {seed}: final {line['final']} kept {line['kept']} ({line['seconds']} s)", flush=True)
        return line

    with ThreadPoolExecutor(args.jobs) as pool:
        lines = list(pool.map(run, parse_seeds(args.seeds)))
    print(f"{args.label}: final >= 475 on {sum(x['final'] >= 475 for x in lines)} of {len(lines)} seeds, "
          f"kept >= 475 on {sum(x['kept'] >= 475 for x in lines)}")


if __name__ == "__main__":
    main()
