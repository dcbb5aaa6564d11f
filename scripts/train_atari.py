"""Train DQN with ``policy="cnn"`` on an Atari game through gymnasium's standard pipeline; print the return.

    python scripts/train_atari.py                              # ALE/Pong-v5, 1M steps (about 30-60 min on a GPU)
    python scripts/train_atari.py --env ALE/Breakout-v5 --steps 200000

The env id goes in as it is: dlzoo makes an ALE id through gymnasium's standard pipeline
(``agents.atari``: ``AtariPreprocessing``, no-op starts, frame skip 4 with max-pooling, 84x84
grayscale uint8, ``FrameStackObservation(4)``), with ``policy="cnn"`` and rl-baselines3-zoo's Atari
DQN (``DQN.RL_ZOO["atari"]``), ``learning_starts`` capped at a tenth of the run. Prints a line per
10k steps and, at the end, the mean return of ``--eval-episodes`` greedy episodes.
``scripts/gpu_check.sh`` runs it on a GPU.
"""

from __future__ import annotations

import argparse
import time

from zoo.core import quiet

quiet.install()  # TensorFlow's logs stay off the console (DLZOO_VERBOSE=1 brings them back)

import keras  # noqa: E402

import agents  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="ALE/Pong-v5")
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=5)
    args = parser.parse_args(argv)

    starts = min(agents.DQN.RL_ZOO["atari"]["learning_starts"], args.steps // 10)
    agent = agents.DQN(args.env, seed=args.seed, learning_starts=starts, log_interval=min(10_000, args.steps))
    start = time.perf_counter()

    def report(epoch, logs):
        print(f"{int(logs['timesteps']):>9} steps  episode_return {logs['episode_return']:7.2f}  "
              f"loss {logs.get('loss', float('nan')):.4f}  epsilon {logs['epsilon']:.3f}  "
              f"{logs['steps_per_second']:6.0f} steps/s  {time.perf_counter() - start:6.0f} s", flush=True)

    agent.learn(args.steps, callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=report)])
    train_seconds = time.perf_counter() - start
    mean, std = agents.evaluate(agent, n_episodes=args.eval_episodes, seed=args.seed + 1000)
    print(f"{args.env} DQN policy='cnn' {args.steps} steps in {train_seconds:.0f} s: greedy return {mean:.1f} "
          f"+- {std:.1f} over {args.eval_episodes} episodes (training episodes, last 100: "
          f"{agent.history.history['episode_return'][-1]:.1f})", flush=True)


if __name__ == "__main__":
    main()
