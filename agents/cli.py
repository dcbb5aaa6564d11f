"""Command line: ``python -m agents train | hyperparams | enjoy | benchmark``, in rl-baselines3-zoo's shape.

    python -m agents train ppo CartPole-v1 --n-timesteps 20000 --save ppo.zip --log-dir runs/ppo
    python -m agents hyperparams ppo CartPole-v1          # what train runs, and where each value came from
    python -m agents enjoy ppo.zip --episodes 3 --gif ppo.gif
    python -m agents benchmark --table                    # the agents-vs-stable-baselines3 table

A bad argument exits with status 2 and one line naming it and what is accepted, before
any work starts. Progress goes to stderr (a tqdm bar), results to stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

__all__ = ["build_parser", "main", "TRAIN_OPTIONS"]

PROG = "python -m agents"
#: The train options a --config file may hold (besides ``hyperparams``), with their types.
TRAIN_OPTIONS = {"n_timesteps": int, "seed": int, "eval_freq": int, "eval_episodes": int, "checkpoint_dir": str,
                 "checkpoint_every": int, "log_dir": str, "save": str}
DEFAULT_TIMESTEPS = 100_000


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``python -m agents train: error: argument ALGO: ...`` and status 2."""

    def error(self, message):
        message = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {message}\n")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows every default, except where the help already says it or there is none."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default:" in text or any(action.default is v for v in (None, False, argparse.SUPPRESS)):
            return text
        return super()._get_help_string(action)


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}; expected a positive integer")
    return value


def _number(text):
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}; expected a positive number")
    return value


def _file(text):
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"file not found: {text!r}")
    return text


def _assignment(text):
    from agents.hyperparams import parse_assignment

    try:
        return parse_assignment(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _given(argv, parser) -> set:
    """The dests of the options written on the command line (they override a --config file)."""
    given = set()
    for action in parser._actions:
        for opt in action.option_strings:
            if any(tok == opt or tok.startswith(opt + "=") for tok in argv):
                given.add(action.dest)
    return given


# ---------------------------------------------------------------------------------------------- commands


def _agent_class(args, parser):
    """The agent class of ALGO (case-insensitive) and the checked ENV id, or a one-line exit 2."""
    from agents.env_util import check_env_id
    from agents.registry import agent_class

    try:
        cls = agent_class(args.algo)
    except ValueError as err:
        parser.error(f"argument ALGO: {err}")
    try:
        check_env_id(args.env)
    except ValueError as err:
        parser.error(f"argument ENV: {err}")
    return cls


def _resolve(args, parser, argv):
    """Options (command line over --config file) and the resolved hyperparameters, checked."""
    from agents.hyperparams import read_config, resolve

    file_options, file_hyper = {}, {}
    if args.config:
        try:
            file_options, file_hyper = read_config(args.config, TRAIN_OPTIONS)  # hyperparams reads train's files
        except ValueError as err:
            parser.error(f"argument --config: {err}")
    given = _given(argv, parser)
    for key, value in file_options.items():
        if key not in given:
            setattr(args, key, value)
    cls = _agent_class(args, parser)
    try:
        return cls, resolve(cls, args.env, file_hyper, dict(args.hyperparams or []))
    except (ValueError, TypeError) as err:
        parser.error(f"argument --hyperparams: {err}")


def _cmd_hyperparams(args, parser, argv, callbacks):
    cls, resolved = _resolve(args, parser, argv)
    width = max(len(name) for name, _, _ in resolved.rows)
    values = [repr(v) for _, v, _ in resolved.rows]
    vwidth = max(len(v) for v in values)
    print(f"{cls.name} on {args.env}")
    print(f"{'hyperparameter':<{width}}  {'value':<{vwidth}}  source")
    for (name, _, source), value in zip(resolved.rows, values):
        print(f"{name:<{width}}  {value:<{vwidth}}  {source}")
    return 0


def _default_timesteps(cls, env_id):
    from agents.benchmark import ROWS

    return next((steps for algo, env, steps in ROWS if algo == cls.name and env == env_id), DEFAULT_TIMESTEPS)


class _Lines:
    """Result lines on stdout that do not break the progress bar (tqdm.write)."""

    @staticmethod
    def write(text):
        from tqdm.auto import tqdm

        tqdm.write(text, file=sys.stdout)
        sys.stdout.flush()


def _callbacks(args, agent, cls):
    """EvalCallback, the episode log, the progress bar and the evaluation lines of a train run."""
    import keras

    import agents
    from agents.monitor import EpisodeLog, StepProgress

    result = []
    if args.eval_freq:
        every = max(1, round(args.eval_freq / agent._steps_per_epoch()))
        result.append(agents.EvalCallback(n_episodes=args.eval_episodes, every=every, restore_best=False))

        class EvalLines(keras.callbacks.Callback):
            leaves_weights = True  # prints logs only (agents.callbacks)

            def on_epoch_end(self, epoch, logs=None):
                if logs and "eval_return" in logs:
                    _Lines.write(f"step {int(logs['timesteps']):,}: eval return {logs['eval_return']:.2f} "
                                 f"± {logs['eval_return_std']:.2f} ({args.eval_episodes} episodes)")

        result.append(EvalLines())
    if args.log_dir:
        result.append(EpisodeLog(args.log_dir))
    if not args.no_progress:
        result.append(StepProgress(args.n_timesteps, desc=f"{cls.name} {args.env}"))
    return result


def _check_outputs(args, parser):
    """Where train writes: folders that are not files, a --save path whose folder exists (made here), before
    any training (a run must not end in a failed save)."""
    for option, folder in (("--log-dir", args.log_dir), ("--checkpoint-dir", args.checkpoint_dir)):
        if folder and os.path.exists(folder) and not os.path.isdir(folder):
            parser.error(f"argument {option}: invalid value {folder!r}: it is a file; expected a folder")
    if args.save:
        if os.path.isdir(args.save) or os.path.isdir(args.save + ".zip"):
            parser.error(f"argument --save: invalid value {args.save!r}: it is a folder; expected a file path")
        try:
            os.makedirs(os.path.dirname(os.path.abspath(args.save)), exist_ok=True)
        except OSError as err:
            parser.error(f"argument --save: cannot create the folder of {args.save!r} ({err})")


def _cmd_train(args, parser, argv, callbacks):
    cls, resolved = _resolve(args, parser, argv)
    if args.n_timesteps is None:
        args.n_timesteps = _default_timesteps(cls, args.env)
    for key in ("n_timesteps", "eval_freq", "eval_episodes", "checkpoint_every"):
        value = getattr(args, key)
        if value is not None and value < 1:  # a --config file's value (the command line's is checked by argparse)
            parser.error(f"argument --{key.replace('_', '-')}: invalid value {value!r}; expected a positive integer")
    _check_outputs(args, parser)
    import keras

    from agents.checkpoint import read_info

    try:
        agent = cls(args.env, seed=args.seed, **resolved.kwargs)
        extra = _callbacks(args, agent, cls)
    except (ValueError, TypeError) as err:
        parser.error(str(err))
    if args.checkpoint_dir:
        info = read_info(args.checkpoint_dir) if os.path.isdir(args.checkpoint_dir) else None
        if info is not None:
            print(f"resuming from {args.checkpoint_dir} at step {info['num_timesteps']:,}", file=sys.stderr)
    if args.log_dir:
        from zoo.core.io import atomic_json

        os.makedirs(args.log_dir, exist_ok=True)
        run = {k: getattr(args, k) for k in TRAIN_OPTIONS} | {"algo": cls.name, "env": args.env}
        atomic_json(os.path.join(args.log_dir, "config.json"), {"run": run, "agent": agent.get_config()})

    class Started(keras.callbacks.Callback):
        started, leaves_weights = False, True

        def on_train_begin(self, logs=None):
            Started.started = True

    start = time.perf_counter()
    try:
        agent.learn(args.n_timesteps, callbacks=[Started(), *extra, *callbacks], checkpoint_dir=args.checkpoint_dir,
                    checkpoint_every=args.checkpoint_every)
    except (ValueError, TypeError) as err:
        if Started.started:  # a failure in training, not a bad argument
            raise
        where = "argument --checkpoint-dir: " if args.checkpoint_dir else ""
        parser.error(f"{where}{err}")  # a checkpoint of another run, torn or corrupt
    seconds = time.perf_counter() - start
    returns = agent.history.history.get("episode_return", [])
    last = f"; mean return of the last {len(agent._episode_returns)} episodes {returns[-1]:.2f}" if returns else ""
    print(f"{cls.name} on {args.env}: {agent.num_timesteps:,} steps in {seconds:.1f} s{last}")
    if args.save:
        print(f"saved {agent.save(args.save)}")
    agent.close()
    return 0


def _cmd_enjoy(args, parser, argv, callbacks):
    if args.gif and not os.path.isdir(os.path.dirname(os.path.abspath(args.gif))):
        parser.error(f"argument --gif: invalid value {args.gif!r}: its folder does not exist")
    import agents
    from agents.enjoy import play

    try:
        agent = agents.load(args.path)
    except (ValueError, TypeError) as err:
        parser.error(f"argument PATH: {err}")

    def line(i, total, length):
        print(f"episode {i + 1}: return {total:.2f}, length {length}", flush=True)

    try:
        results = play(agent, args.episodes, seed=args.seed, gif=args.gif, fps=args.fps, max_frames=args.max_frames,
                       on_episode=line)
    except ValueError as err:
        parser.error(f"argument --gif: {err}" if args.gif and "gif=" in str(err) else str(err))
    returns = [r for r, _ in results]
    import numpy as np

    print(f"mean return over {len(returns)} episodes: {np.mean(returns):.2f} ± {np.std(returns):.2f}")
    if args.gif:
        print(f"wrote {args.gif}")
    agent.close()
    return 0


def _cmd_benchmark(args, parser, argv, callbacks):
    from agents.benchmark import run

    run(args, parser.error)
    return 0


# ---------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m agents`` parser (cheap: nothing is imported until a command runs)."""
    parser = _Parser(prog=PROG, description="dlzoo's reinforcement-learning agents from the shell", allow_abbrev=False)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", help="show TensorFlow's logs, which are off by default")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,hyperparams,enjoy,benchmark}")

    def command(name, fn, help):
        p = sub.add_parser(name, parents=[common], help=help, description=help, formatter_class=_Help,
                           allow_abbrev=False)
        p.set_defaults(fn=fn)
        return p

    def algo_env(p):
        p.add_argument("algo", metavar="ALGO", help="the algorithm, case-insensitive: a2c, ddpg, dqn, ppo, reinforce, "
                                                    "sac, td3 or a plugin's")
        p.add_argument("env", metavar="ENV", help="a gymnasium env id, e.g. CartPole-v1, Pendulum-v1, ALE/Pong-v5 "
                       "(ALE ids: the standard Atari pipeline, policy 'cnn')")
        p.add_argument("--hyperparams", nargs="+", type=_assignment, metavar="NAME=VALUE",
                       help="hyperparameters over the tuned defaults (values read as Python literals), e.g. "
                            "n_envs=4 learning_rate=1e-3 net_arch=(64,64); also policy=, policy_kwargs=, vec_env=, "
                            "use_rl_zoo=False")
        p.add_argument("--config", type=_file, metavar="FILE",
                       help="a .yaml or .json file of options and a 'hyperparams' mapping (the command line wins)")

    p = command("train", _cmd_train, "train an agent (rl-zoo's tuned hyperparameters for the env apply)")
    algo_env(p)
    p.add_argument("--n-timesteps", type=_positive, metavar="N",
                   help="env steps to train (default: the benchmark's budget for ALGO/ENV, else 100000)")
    p.add_argument("--seed", type=int, default=0, help="seeds the agent, its envs and TensorFlow")
    p.add_argument("--eval-freq", type=_positive, metavar="N",
                   help="evaluate the greedy policy about every N env steps (agents.EvalCallback; default: never)")
    p.add_argument("--eval-episodes", type=_positive, default=5, metavar="N", help="episodes per evaluation")
    p.add_argument("--checkpoint-dir", metavar="DIR",
                   help="checkpoint here; rerunning the same command resumes where a killed run stopped")
    p.add_argument("--checkpoint-every", type=_positive, metavar="N",
                   help="env steps between checkpoints (default: every 10 epochs)")
    p.add_argument("--log-dir", metavar="DIR",
                   help="write episodes.csv (step,return,length), config.json and, with tensorboard installed, "
                        "TensorBoard scalars here")
    p.add_argument("--save", metavar="PATH", help="save the trained agent (a .zip, agents.load reads it)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = command("hyperparams", _cmd_hyperparams, "print the hyperparameters train would use and where each came from")
    algo_env(p)

    p = command("enjoy", _cmd_enjoy, "play a saved agent deterministically; print returns, optionally write a GIF")
    p.add_argument("path", metavar="PATH", type=_file, help="an agent .zip (train --save, agent.save)")
    p.add_argument("--episodes", type=_positive, default=3, metavar="N", help="episodes to play")
    p.add_argument("--seed", type=int, default=0, help="seeds the env's first reset")
    p.add_argument("--gif", metavar="OUT.gif", help="write the episodes' rgb_array frames as an animated GIF")
    p.add_argument("--fps", type=_number, help="GIF frames per second (default: the env's render_fps)")
    p.add_argument("--max-frames", type=_positive, default=1000, metavar="N",
                   help="frames kept for the GIF (the episodes still play to the end)")

    p = command("benchmark", _cmd_benchmark,
                "dlzoo's agents against stable-baselines3 on every seed (scripts/bench_agents.py; hours)")
    from agents.benchmark import add_arguments

    add_arguments(p)
    return parser


def main(argv=None, callbacks=()) -> int:
    """Run one command; returns the exit status (a bad argument exits with 2). ``callbacks``: extra Keras
    callbacks for ``train``'s ``learn`` (for scripts and tests)."""
    from zoo.core import quiet

    argv = sys.argv[1:] if argv is None else list(argv)
    if "--verbose" in argv:  # before anything imports TensorFlow
        quiet.set_verbose(True)
    quiet.install()
    parser = build_parser()
    args = parser.parse_args(argv)
    sub = parser._subparsers._group_actions[0].choices[args.command]
    return args.fn(args, sub, argv, list(callbacks))


if __name__ == "__main__":
    sys.exit(main())
