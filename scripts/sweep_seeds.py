"""One agent's recipe on many seeds, as the tables of docs/agents.md#what-changed-to-get-there.

Each seed runs in its own process on one thread (``--jobs`` at a time) with the benchmark's protocol
(``agents.benchmark.run_ours``): ``--steps`` steps (DQN on CartPole-v1 for 50k by default), the final
policy and the kept one (best of 10 evaluations of 5 episodes) measured on the same 10 greedy episodes
(env seed = seed + 1000). One JSON line per seed goes to ``--out``::

    python scripts/sweep_seeds.py --label gs64_bs128 --seeds 0-19 \\
        --config '{"gradient_steps": 64, "batch_size": 128}'
    python scripts/sweep_seeds.py --algo PPO --env Pendulum-v1 --steps 100000 --seeds 10-29 \\
        --label torch_adam --config '{"adam_form": "torch"}'

``--sb3`` runs stable-baselines3's agent on the same settings instead (without the knobs SB3 lacks,
such as DQN's double Q).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


def one_seed(algo: str, env_id: str, steps: int, seed: int, config: dict, sb3: bool = False) -> dict:
    """Train and measure one seed in this process (one TensorFlow or torch thread), as the benchmark does;
    ``sb3``: stable-baselines3's agent with the same settings (``agents.benchmark.run_sb3``)."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from agents.benchmark import run_ours, run_sb3

    if sb3:
        import torch

        import agents

        torch.set_num_threads(1)
        seconds, final, kept = run_sb3(algo, env_id, steps, seed, agents.make(algo, env_id, seed=seed, **config).config)
    else:
        seconds, final, kept, _ = run_ours(algo, env_id, steps, seed, **config)
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
    parser.add_argument("--algo", default="DQN", help="a registered agent (default DQN)")
    parser.add_argument("--env", default="CartPole-v1", help="a gymnasium id (default CartPole-v1)")
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per seed (default 50000)")
    parser.add_argument("--config", default="{}", help="JSON of settings over dlzoo's defaults for the env")
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5")
    parser.add_argument("--label", default="default", help="the recipe's name in the output")
    parser.add_argument("--jobs", type=int, default=2, help="processes at a time (one thread each)")
    parser.add_argument("--out", help="JSON lines file (default runs/sweep_ALGO_ENV.jsonl)")
    parser.add_argument("--sb3", action="store_true", help="stable-baselines3's agent with the same settings")
    parser.add_argument("--one-seed", type=int, help=argparse.SUPPRESS)  # the worker process
    args = parser.parse_args()
    config = json.loads(args.config)
    if args.one_seed is not None:
        print(json.dumps(one_seed(args.algo, args.env, args.steps, args.one_seed, config, args.sb3)), flush=True)
        return
    out = args.out or f"runs/sweep_{args.algo}_{args.env}.jsonl"
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)

    def run(seed):
        command = [sys.executable, __file__, "--one-seed", str(seed), "--algo", args.algo, "--env", args.env,
                   "--steps", str(args.steps), "--config", args.config] + ["--sb3"] * args.sb3
        line = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        line["label"], line["library"] = args.label, "sb3" if args.sb3 else "dlzoo"
        line.update(algo=args.algo, env=args.env, steps=args.steps)
        with open(out, "a") as f:
            f.write(json.dumps(line) + "\n")
        print(f"{args.label} seed {seed}: final {line['final']} kept {line['kept']} ({line['seconds']} s)", flush=True)
        return line

    with ThreadPoolExecutor(args.jobs) as pool:
        lines = list(pool.map(run, parse_seeds(args.seeds)))
    print(summary(args.label, args.env, lines))


def summary(label: str, env_id: str, lines: list[dict]) -> str:
    """Mean (worst) of the final and kept returns, and on CartPole-v1 the seeds at >= 475."""
    text = ", ".join(f"{key} {statistics.mean(x[key] for x in lines):.1f} (worst {min(x[key] for x in lines):.1f})"
                     for key in ("final", "kept"))
    if env_id == "CartPole-v1":
        text += (f"; final >= 475 on {sum(x['final'] >= 475 for x in lines)} of {len(lines)} seeds, "
                 f"kept >= 475 on {sum(x['kept'] >= 475 for x in lines)}")
    return f"{label}: {text}"


if __name__ == "__main__":
    main()
