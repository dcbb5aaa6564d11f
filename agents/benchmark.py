"""The agents on every seed, side by side with stable-baselines3: returns and wall-clock.

``python -m agents benchmark`` and ``scripts/bench_agents.py`` run this module (the same options):

    python scripts/bench_agents.py --only DQN/CartPole-v1 --seeds 0,1,2,3,4   # one row, 5 seeds, vs SB3
    python scripts/bench_agents.py --only "*/Pendulum-v1" --seeds 0,1           # a glob over ALGO/ENV
    python scripts/bench_agents.py --table                                      # the table from the saved rows
    python scripts/bench_agents.py --only PPO/CartPole-v1 --scale 0.2 --no-sb3  # shorter, dlzoo only

Each row trains dlzoo's agent and stable-baselines3's on the same env, seeds, steps
and hyperparameters (dlzoo's configuration, rl-baselines3-zoo's values where it has
them) and reports per library the mean ± std and the worst seed of

- the **final** policy: what ``learn`` returns, 10 deterministic episodes;
- the **kept** policy: the best of ~10 evaluations during training (5 episodes
  each), as rl-baselines3-zoo's ``EvalCallback`` keeps ``best_model``; dlzoo's is
  ``agents.EvalCallback(restore_best=True)``.

The two libraries run alternately, seed by seed, in this one process tree; the
wall-clock ratio dlzoo/SB3 is the median over the seeds that ran both here (time
in evaluation callbacks excluded). SB3's returns are cached per SB3 version,
settings and seed in ``--out``/sb3_cache.json and reused with ``--reuse-sb3`` on
seeds beyond the first two (those are always timed afresh; ``--timed-seeds``). Every
row is saved with its commit to ``--out``/ALGO_ENV.json; ``--table`` writes
``--out``/agents.md. A row can run in pieces at one commit: its timed seeds in one
process, the others in another (``--seeds 2,3,4 --timed-seeds 0 --reuse-sb3 --merge``,
under ``nice`` so that it takes only the cores the timed piece leaves idle).

SB3 runs with ``torch.set_num_threads(1)`` (``--torch-threads``): with torch's
default pool on a loaded 2-core machine SB3's PPO ran ~15x slower.
"""

from __future__ import annotations

import argparse
import copy
import fnmatch
import json
import os
import statistics
import time

from agents.sb3_settings import sb3_kwargs, sb3_settings_key

__all__ = ["ROWS", "bench_row", "table", "add_arguments", "run", "update_docs_page", "require_sb3"]

# (algorithm, env, steps): steps are rl-baselines3-zoo's n_timesteps where that fits 2 cores, else said in the docs
ROWS = [
    ("DQN", "CartPole-v1", 50_000), ("A2C", "CartPole-v1", 100_000), ("PPO", "CartPole-v1", 100_000),
    ("DQN", "Acrobot-v1", 100_000), ("A2C", "Acrobot-v1", 100_000), ("PPO", "Acrobot-v1", 100_000),
    ("DQN", "LunarLander-v3", 100_000), ("PPO", "LunarLander-v3", 200_000),
    ("SAC", "Pendulum-v1", 20_000), ("TD3", "Pendulum-v1", 20_000), ("DDPG", "Pendulum-v1", 20_000),
    ("PPO", "Pendulum-v1", 100_000),
    ("SAC", "MountainCarContinuous-v0", 50_000), ("TD3", "MountainCarContinuous-v0", 50_000),
]
EVALS_PER_RUN = 10
TIMED_SEEDS = 2  # the first seeds of a row always run both libraries here, for the wall-clock ratio


def row_id(algo, env):
    return f"{algo}_{env}"


def row_steps(steps, scale):
    """A row's steps at ``--scale`` (at least 1000)."""
    return max(1000, int(steps * scale))


def eval_every_steps(steps):
    return max(1, steps // EVALS_PER_RUN)


# ---------------------------------------------------------------------------------------------- dlzoo


def run_ours(algo, env_id, steps, seed, **overrides):
    """Train dlzoo's agent (``overrides`` over its settings for the env); ``(seconds without evaluation,
    final return, kept return, config)``."""
    import agents

    agent = agents.make(algo, env_id, seed=seed, **overrides)
    every = max(1, round(eval_every_steps(steps) / agent._steps_per_epoch()))
    keeper = agents.EvalCallback(env_id, n_episodes=5, every=every, restore_best=False, seed=seed + 2000)
    start = time.perf_counter()
    agent.learn(steps, callbacks=[keeper])
    seconds = time.perf_counter() - start - keeper.seconds
    final, _ = agents.evaluate(agent, env_id, n_episodes=10, seed=seed + 1000)
    kept = final
    if keeper.best_weights is not None:
        agent.model.set_weights(keeper.best_weights)
        kept = agents.evaluate(agent, env_id, n_episodes=10, seed=seed + 1000)[0]
    return seconds, final, kept, agent.config


# ---------------------------------------------------------------------------------------------- SB3


def run_sb3(algo, env_id, steps, seed, config):
    """Train SB3's agent with dlzoo's settings; ``(seconds without evaluation, final return, kept return)``."""
    import stable_baselines3 as sb3
    from stable_baselines3.common.callbacks import EvalCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    class TimedEval(EvalCallback):
        """SB3's EvalCallback keeping the best policy's parameters in memory, timing itself."""

        seconds, best_params = 0.0, None

        def _on_step(self):
            start, best = time.perf_counter(), self.best_mean_reward
            result = super()._on_step()
            if self.best_mean_reward > best:  # a copy: get_parameters() holds the live tensors
                self.best_params = copy.deepcopy(self.model.get_parameters())
            self.seconds += time.perf_counter() - start
            return result

    def envs(n, env_seed, train=None):
        """SB3 vector envs; a ``VecNormalize`` with ``normalize_obs`` / ``normalize_reward`` (dlzoo's
        ObsNormalizer / RewardNormalizer); the evaluation copy shares the observation statistics."""
        venv = make_vec_env(env_id, n_envs=n, seed=env_seed)
        reward = config.normalize_reward and train is None
        if not config.normalize_obs and not reward:
            return venv
        venv = VecNormalize(venv, norm_obs=config.normalize_obs, norm_reward=reward, gamma=config.gamma,
                            training=train is None)
        if train is not None:
            venv.obs_rms = train.obs_rms
        return venv

    def final_return():
        """10 episodes through ``agents.evaluate``: the same episodes (env seeds) as dlzoo's evaluation."""
        import agents

        class Policy:  # SB3's model as an object with predict(obs, deterministic), observations normalised
            def predict(self, obs, deterministic=True):
                return model.predict(env.normalize_obs(obs) if config.normalize_obs else obs,
                                     deterministic=deterministic)

        return float(agents.evaluate(Policy(), env_id, n_episodes=10, seed=seed + 1000)[0])

    env = envs(config.n_envs, seed)
    model = getattr(sb3, algo)("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **sb3_kwargs(algo, config))
    keeper = TimedEval(envs(1, seed + 2000, env), n_eval_episodes=5, verbose=0,
                       eval_freq=max(1, eval_every_steps(steps) // config.n_envs))
    start = time.perf_counter()
    model.learn(steps, callback=keeper)
    seconds = time.perf_counter() - start - keeper.seconds
    final = kept = final_return()
    if keeper.best_params is not None:
        model.set_parameters(keeper.best_params)
        kept = final_return()
    return seconds, final, kept


# ---------------------------------------------------------------------------------------------- rows


def summary(values):
    values = [float(v) for v in values]
    return dict(mean=statistics.fmean(values), std=statistics.pstdev(values), worst=min(values), values=values)


def load_json(path, default):
    if os.path.isfile(path):
        with open(path) as f:
            return json.load(f)
    return default


def save_row(algo, env_id, steps, seeds, ours, theirs, args):
    """The row of the seeds run so far, saved to ``--out`` (with ``--merge``, joined to the saved one)."""
    from zoo.core.io import atomic_json
    from zoo.reproduce.report import commit

    record = dict(algo=algo, env=env_id, steps=steps, seeds=list(seeds), commit=commit(),
                  date=time.strftime("%Y-%m-%d %H:%M"), dlzoo=ours)
    if theirs:
        import stable_baselines3

        record.update(sb3_version=stable_baselines3.__version__, sb3=theirs)
    path = os.path.join(args.out, row_id(algo, env_id) + ".json")
    if getattr(args, "merge", False):
        record = merge_rows(load_json(path, None), record)
    record = summarise(record)
    atomic_json(path, record)
    return record


def bench_row(algo, env_id, steps, seeds, args):
    """Run one row on every seed; returns its record. The row is saved after each seed, so a run
    stopped part-way keeps the seeds it finished (``--merge`` joins a rerun of the others)."""
    cache_path = os.path.join(args.out, "sb3_cache.json")
    timed_seeds = TIMED_SEEDS if getattr(args, "timed_seeds", None) is None else args.timed_seeds
    ours, theirs = [], []
    for i, seed in enumerate(seeds):
        seconds, final, kept, config = run_ours(algo, env_id, steps, seed)
        ours.append(dict(seed=seed, seconds=seconds, final=final, kept=kept))
        print(f"{algo} {env_id} {steps} steps seed {seed}: dlzoo {seconds:.0f}s final {final:.1f} kept {kept:.1f}",
              flush=True)
        if not args.no_sb3:
            theirs.append(dict(seed=seed, **sb3_result(algo, env_id, steps, seed, config, i < timed_seeds, ours[-1],
                                                       cache_path, args)))
        record = save_row(algo, env_id, steps, seeds[:i + 1], ours, theirs, args)
    return record


def sb3_result(algo, env_id, steps, seed, config, timed, ours, cache_path, args):
    """SB3's figures for one seed: from the cache with ``--reuse-sb3`` unless ``timed``, else run now,
    alternated with dlzoo's run (whose entry ``ours`` then gets the time ratio) and cached."""
    from zoo.core.io import atomic_json

    key = f"{sb3_settings_key(algo, env_id, steps, config)}/{seed}"
    timed = timed or not args.reuse_sb3  # then run here, alternated with dlzoo's run
    cached = None if timed else load_json(cache_path, {}).get(key)  # read afresh: another piece may have added it
    if cached is None:
        sb3_seconds, sb3_final, sb3_kept = run_sb3(algo, env_id, steps, seed, config)
        cached = dict(final=sb3_final, kept=sb3_kept, seconds=sb3_seconds)
        atomic_json(cache_path, {**load_json(cache_path, {}), key: cached})
        if timed:
            ours["ratio"] = ours["seconds"] / sb3_seconds
        print(f"{algo} {env_id} {steps} steps seed {seed}: SB3   {sb3_seconds:.0f}s final {sb3_final:.1f} "
              f"kept {sb3_kept:.1f}" + (f"  (time ratio {ours['ratio']:.2f})" if timed else ""), flush=True)
    return cached


def summarise(record):
    """``record`` with the summaries of its per-seed entries: final, kept, SB3's, and the median time ratio
    over the seeds that ran both libraries alternately."""
    ours, theirs = record["dlzoo"], record.get("sb3") or []
    record = dict(record, final=summary(o["final"] for o in ours), kept=summary(o["kept"] for o in ours))
    if theirs:
        ratios = [o["ratio"] for o in ours if "ratio" in o]
        record.update(sb3_final=summary(t["final"] for t in theirs), sb3_kept=summary(t["kept"] for t in theirs),
                      time_ratio=statistics.median(ratios) if ratios else None, timed_seeds=len(ratios))
    return record


def merge_problem(saved, algo, env_id, steps, with_sb3, this_commit):
    """Why a piece of the ``algo``/``env_id`` row cannot join the ``saved`` one (``--merge``), or None."""
    if saved is None:
        return None
    for field, value in (("commit", this_commit), ("steps", steps)):
        if saved.get(field) != value:
            return (f"--merge: the saved {algo}/{env_id} row has {field}={saved.get(field)!r}, this run {value!r}; "
                    f"only pieces with the same {field} join (rerun the row whole, without --merge)")
    if bool(saved.get("sb3")) != with_sb3:
        return (f"--merge: one piece of the {algo}/{env_id} row has SB3's returns and the other not; run both with "
                "SB3 (--reuse-sb3 --timed-seeds 0 takes them from the cache)")
    return None


def merge_rows(saved, new):
    """One row from two pieces run at the same commit (``--merge``): the new piece's seeds replace the
    saved piece's, the other seeds stay."""
    problem = merge_problem(saved, new["algo"], new["env"], new["steps"], bool(new.get("sb3")), new["commit"])
    if problem:
        raise ValueError(problem)
    if saved is None:
        return new

    def joined(key):
        by_seed = {e["seed"]: e for e in saved.get(key) or []} | {e["seed"]: e for e in new.get(key) or []}
        return [by_seed[seed] for seed in seeds if seed in by_seed]

    seeds = list(saved["seeds"]) + [seed for seed in new["seeds"] if seed not in saved["seeds"]]
    merged = dict(new, seeds=seeds, dlzoo=joined("dlzoo"))
    if new.get("sb3"):
        merged["sb3"] = joined("sb3")
    return merged


def fmt(s):
    return f"{s['mean']:.1f} ± {s['std']:.1f} ({s['worst']:.1f})"


def table(out_dir) -> str:
    """The markdown table of every saved row, in ``ROWS`` order."""
    lines = ["| algo | env | steps | seeds | dlzoo final | SB3 final | dlzoo kept | SB3 kept | time dlzoo/SB3 "
             "| goal met | commit |", "|---|---|---:|---|---|---|---|---|---:|---|---|"]
    for algo, env_id, _ in ROWS:
        r = load_json(os.path.join(out_dir, row_id(algo, env_id) + ".json"), None)
        if r is None:
            lines.append(f"| {algo} | {env_id} | | not run yet | | | | | | | |")
            continue
        sb3 = "sb3_final" in r
        goal = ""
        if sb3 and r.get("time_ratio") is not None:
            ok = (r["final"]["mean"] >= r["sb3_final"]["mean"] and r["final"]["worst"] >= r["sb3_final"]["worst"]
                  and r["time_ratio"] <= 0.5)
            goal = "yes" if ok else "no"
        ratio = f"{r['time_ratio']:.2f}x ({r['timed_seeds']} seeds)" if sb3 and r.get("time_ratio") else ""
        lines.append(
            f"| {algo} | {env_id} | {r['steps']:,} | {','.join(map(str, r['seeds']))} | {fmt(r['final'])} | "
            f"{fmt(r['sb3_final']) if sb3 else ''} | {fmt(r['kept'])} | {fmt(r['sb3_kept']) if r.get('sb3_kept') else ''} | "
            f"{ratio} | {goal} | {r['commit']} |")
    return "\n".join(lines)


def require_sb3():
    """Import stable-baselines3 and torch, or fail naming the extra that installs them."""
    try:
        import stable_baselines3  # noqa: F401
        import torch
    except ImportError as err:
        raise ImportError(f"the agents benchmark runs stable-baselines3 beside dlzoo and could not import it ({err}); "
                          "install the bench extra (pip install -e '.[bench]') or pass --no-sb3") from err
    return torch


def add_arguments(parser: argparse.ArgumentParser):
    """The benchmark's options (``scripts/bench_agents.py`` and ``python -m agents benchmark``)."""
    parser.add_argument("--only", nargs="*", default=["*"],
                        help="rows as ALGO/ENV globs (default: all), e.g. DQN/CartPole-v1 '*/Pendulum-v1' PPO")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds (default: 0,1,2,3,4)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each row's steps (default: 1)")
    parser.add_argument("--no-sb3", action="store_true", help="dlzoo only")
    parser.add_argument("--reuse-sb3", action="store_true",
                        help=f"reuse cached SB3 returns beyond the first {TIMED_SEEDS} seeds (same version/settings)")
    parser.add_argument("--table", action="store_true", help="only write the table of the saved rows")
    parser.add_argument("--out", default=os.path.join("docs", "results", "agents"),
                        help="where rows, the SB3 cache and agents.md go (default: docs/results/agents)")
    parser.add_argument("--timed-seeds", type=int, default=None,
                        help=f"how many of the first seeds run both libraries for the time ratio (default: "
                             f"{TIMED_SEEDS}); 0 with --reuse-sb3: SB3's returns from the cache where they are")
    parser.add_argument("--merge", action="store_true",
                        help="join this run's seeds to the saved row made at the same commit: a row in pieces, "
                             "e.g. --seeds 0,1 timed and --seeds 2,3,4 --timed-seeds 0 in another process")
    parser.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads for SB3 (default: 1)")
    return parser


def run(args, error, emit=None) -> str:
    """Run the rows ``args`` select (unless ``--table``), write ``--out``/agents.md and print the table.

    ``error(message)`` reports a bad argument (``parser.error``); ``emit`` (``benchlib.emit``) records
    the wall-clock ratios for ``scripts/bench_all.py``. The table also goes into docs/agents.md when
    ``--out`` is this checkout's docs/results/agents (the saved rows the page shows).
    """
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        error(f"--seeds {args.seeds!r}: expected comma-separated integers such as 0,1,2,3,4")
    if not args.table:
        patterns = [p if "/" in p else f"{p}/*" for p in args.only]
        rows = [r for r in ROWS if any(fnmatch.fnmatch(f"{r[0]}/{r[1]}", p) for p in patterns)]
        if not rows:
            error(f"--only {args.only}: no row matches; rows: {', '.join(f'{a}/{e}' for a, e, _ in ROWS)}")
        if args.timed_seeds is not None and args.timed_seeds < 0:
            error(f"--timed-seeds {args.timed_seeds}: expected 0 or more")
        if args.merge:
            from zoo.reproduce.report import commit

            this_commit = commit()
            for algo, env_id, steps in rows:
                saved = load_json(os.path.join(args.out, row_id(algo, env_id) + ".json"), None)
                problem = merge_problem(saved, algo, env_id, row_steps(steps, args.scale), not args.no_sb3,
                                        this_commit)
                if problem:
                    error(problem)
        if not args.no_sb3:
            try:
                torch = require_sb3()
            except ImportError as err:
                error(str(err))
            torch.set_num_threads(args.torch_threads)
    os.makedirs(args.out, exist_ok=True)
    if not args.table:
        records = [bench_row(algo, env_id, row_steps(steps, args.scale), seeds, args)
                   for algo, env_id, steps in rows]
        if emit is not None:
            emit("agents", [dict(measure=f"{r['algo']} {r['env']} {r['steps']} steps wall-clock",
                                 peer="stable-baselines3", ratio=r["time_ratio"], final_ours=round(r["final"]["mean"], 1),
                                 final_peer=round(r["sb3_final"]["mean"], 1)) for r in records if r.get("time_ratio")])
    text = table(args.out)
    from zoo.core.io import atomic_write

    atomic_write(os.path.join(args.out, "agents.md"),
                 "# Agents on every seed, against stable-baselines3\n\nGenerated by `python scripts/bench_agents.py"
                 " --table` from the rows in this folder (each made by `--only ALGO/ENV`, at the commit shown). "
                 "Cells: mean ± std (worst seed) of the evaluation return.\n\n" + text + "\n")
    page = docs_page_for(args.out)
    if page is not None:
        update_docs_page(text, page)
    print(text)
    return text


def docs_page_for(out):
    """docs/agents.md of the checkout whose docs/results/agents is ``out``, None for any other folder: a
    row run from a snapshot worktree with ``--out`` in the main checkout updates that checkout's page."""
    out = os.path.abspath(out)
    if not out.replace(os.sep, "/").endswith("/docs/results/agents"):
        return None
    page = os.path.join(os.path.dirname(os.path.dirname(out)), "agents.md")
    return page if os.path.isfile(page) else None


def update_docs_page(text, page):
    """Put the table between ``<!-- agents-table:start -->`` and ``<!-- agents-table:end -->`` in docs/agents.md."""
    from zoo.core.io import atomic_write

    start, end = "<!-- agents-table:start -->", "<!-- agents-table:end -->"
    with open(page) as f:
        doc = f.read()
    if start in doc and end in doc:
        head, rest = doc.split(start, 1)
        atomic_write(page, f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")
