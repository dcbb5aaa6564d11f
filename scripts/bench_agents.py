"""Benchmark the agents on rl-baselines3-zoo's settings, optionally against stable-baselines3.

    python scripts/bench_agents.py                  # DQN 50k + PPO 100k on CartPole-v1, SAC + TD3 20k on Pendulum-v1
    python scripts/bench_agents.py --vs-sb3         # also stable-baselines3 (PyTorch CPU), alternately, same settings
    python scripts/bench_agents.py --only PPO --vs-sb3 --repeats 3
    python scripts/bench_agents.py --scale 0.2      # shorter runs (fractions of the reference step counts)

SB3 runs with ``torch.set_num_threads(1)`` (``--torch-threads``): with torch's default
pool, on a loaded 2-core machine, SB3's PPO took 155 s for 5k steps instead of 9 s.

Prints, per algorithm, the mean evaluation return (10 deterministic episodes) against
the rl-baselines3-zoo reference, the wall-clock of ``learn`` and, with ``--vs-sb3``, the
median time ratio dlzoo / SB3 over the repeats. Writes ``report.md`` and ``results.json``
to ``--out`` (default ``runs/bench_agents``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
from zoo.core import quiet  # noqa: E402

quiet.install()  # TensorFlow's logs stay off the console (DLZOO_VERBOSE=1 brings them back)

# algorithm, env, steps, rl-baselines3-zoo reference return
BENCHES = [
    ("DQN", "CartPole-v1", 50_000, 500.0),
    ("PPO", "CartPole-v1", 100_000, 500.0),
    ("SAC", "Pendulum-v1", 20_000, -150.0),
    ("TD3", "Pendulum-v1", 20_000, -160.0),
]


def run_ours(name, env_id, steps, seed):
    import agents

    agent = agents.make(name, env_id, seed=seed)
    start = time.perf_counter()
    agent.learn(steps)
    seconds = time.perf_counter() - start
    mean, std = agents.evaluate(agent, env_id, n_episodes=10, seed=seed + 1000)
    return seconds, mean, std, agent


def sb3_kwargs(name, config):
    """stable-baselines3 arguments equal to a dlzoo agent's configuration."""
    import numpy as np
    from stable_baselines3.common.noise import NormalActionNoise

    c = config
    lr = (lambda p, lr=c.learning_rate: p * lr) if c.lr_schedule == "linear" else c.learning_rate
    act = {"tanh": "Tanh", "relu": "ReLU"}[c.activation]
    import torch

    policy_kwargs = dict(net_arch=list(c.net_arch), activation_fn=getattr(torch.nn, act))
    common = dict(learning_rate=lr, gamma=c.gamma, policy_kwargs=policy_kwargs)
    if name == "PPO":
        clip = (lambda p, v=c.clip_range: p * v) if c.clip_schedule == "linear" else c.clip_range
        return dict(common, n_steps=c.n_steps, batch_size=c.batch_size, n_epochs=c.n_epochs, gae_lambda=c.gae_lambda,
                    clip_range=clip, ent_coef=c.ent_coef, vf_coef=c.vf_coef, max_grad_norm=c.max_grad_norm)
    off = dict(common, buffer_size=c.buffer_size, learning_starts=c.learning_starts, batch_size=c.batch_size,
               tau=c.tau, train_freq=c.train_freq, gradient_steps=c.gradient_steps)
    if name == "DQN":
        return dict(off, target_update_interval=c.target_update_interval, exploration_fraction=c.exploration_fraction,
                    exploration_initial_eps=c.exploration_initial_eps, exploration_final_eps=c.exploration_final_eps,
                    max_grad_norm=c.max_grad_norm)
    if name == "SAC":
        return dict(off, ent_coef=c.ent_coef, target_update_interval=c.target_update_interval)
    if name in ("TD3", "DDPG"):
        return dict(off, action_noise=NormalActionNoise(np.zeros(1), c.action_noise * np.ones(1)),
                    policy_delay=c.policy_delay, target_policy_noise=c.target_policy_noise,
                    target_noise_clip=c.target_noise_clip)
    raise ValueError(f"no stable-baselines3 mapping for {name!r}")


def run_sb3(name, env_id, steps, seed, config):
    import stable_baselines3 as sb3
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    env = make_vec_env(env_id, n_envs=config.n_envs, seed=seed)
    model = getattr(sb3, name)("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **sb3_kwargs(name, config))
    start = time.perf_counter()
    model.learn(steps)
    seconds = time.perf_counter() - start
    mean, std = evaluate_policy(model, make_vec_env(env_id, n_envs=1, seed=seed + 1000), n_eval_episodes=10)
    return seconds, float(mean), float(std)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vs-sb3", action="store_true", help="also run stable-baselines3, alternately")
    parser.add_argument("--only", nargs="*", help="algorithms to run (default: DQN PPO SAC TD3)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the reference step counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("runs", "bench_agents"))
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch.set_num_threads for SB3 (default 1: on a busy 2-core machine torch's default "
                             "thread pool spins and runs ~15x slower)")
    args = parser.parse_args(argv)
    if args.vs_sb3:
        import torch

        torch.set_num_threads(args.torch_threads)
    benches = [b for b in BENCHES if not args.only or b[0] in [o.upper() for o in args.only]]
    if not benches:
        parser.error(f"--only {args.only}: expected some of {[b[0] for b in BENCHES]}")
    rows, results = [], []
    for name, env_id, steps, reference in benches:
        steps = max(1000, int(steps * args.scale))
        ours, theirs = [], []
        for r in range(args.repeats):
            seconds, mean, std, agent = run_ours(name, env_id, steps, args.seed + r)
            ours.append((seconds, mean, std))
            print(f"{name} {env_id} {steps} steps, dlzoo run {r}: {seconds:.1f}s, return {mean:.1f} ± {std:.1f}",
                  flush=True)
            if args.vs_sb3:
                seconds, mean, std = run_sb3(name, env_id, steps, args.seed + r, agent.config)
                theirs.append((seconds, mean, std))
                print(f"{name} {env_id} {steps} steps, SB3   run {r}: {seconds:.1f}s, return {mean:.1f} ± {std:.1f}",
                      flush=True)
        row = dict(algo=name, env=env_id, steps=steps, reference=reference,
                   seconds=statistics.median(o[0] for o in ours), mean_return=statistics.median(o[1] for o in ours),
                   runs=ours)
        if theirs:
            row.update(sb3_seconds=statistics.median(t[0] for t in theirs),
                       sb3_mean_return=statistics.median(t[1] for t in theirs), sb3_runs=theirs,
                       time_ratio=statistics.median(o[0] / t[0] for o, t in zip(ours, theirs)))
        results.append(row)
        rows.append(row)
    header = "| algo | env | steps | return (median) | reference | seconds |"
    sep = "|---|---|---:|---:|---:|---:|"
    if args.vs_sb3:
        header += " SB3 return | SB3 seconds | time ratio dlzoo/SB3 |"
        sep += "---:|---:|---:|"
    lines = [header, sep]
    for r in rows:
        line = (f"| {r['algo']} | {r['env']} | {r['steps']} | {r['mean_return']:.1f} | {r['reference']:.0f} | "
                f"{r['seconds']:.1f} |")
        if args.vs_sb3:
            line += f" {r['sb3_mean_return']:.1f} | {r['sb3_seconds']:.1f} | {r['time_ratio']:.2f} |"
        lines.append(line)
    table = "\n".join(lines)
    print(table)
    from benchlib import emit

    emit("agents", [dict(measure=f"{r['algo']} {r['env']} {r['steps']} steps wall-clock", peer="stable-baselines3",
                         ratio=r["time_ratio"], return_ours=round(r["mean_return"], 1),
                         return_peer=round(r["sb3_mean_return"], 1)) for r in rows if "time_ratio" in r])
    os.makedirs(args.out, exist_ok=True)
    for fname, text in (("report.md", f"# bench_agents (repeats={args.repeats}, scale={args.scale})\n\n{table}\n"),
                        ("results.json", json.dumps(results, indent=2))):
        tmp = os.path.join(args.out, fname + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(args.out, fname))
    return results


if __name__ == "__main__":
    main()
