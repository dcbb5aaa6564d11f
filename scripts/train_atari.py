"""Train DQN with ``policy="cnn"`` on an Atari game through gymnasium's standard pipeline; print the return.

    python scripts/train_atari.py                              # ALE/Pong-v5, 1M steps (about 30-60 min on a GPU)
    python scripts/train_atari.py --env ALE/Breakout-v5 --steps 200000

The pipeline is the one users pass to stable-baselines3's CnnPolicy: ``gym.make(env, frameskip=1)``,
``AtariPreprocessing`` (no-op starts, frame skip 4 with max-pooling, 84x84 grayscale uint8) and
``FrameStackObservation(env, 4)``: (4, 84, 84) uint8 observations, scaled and moved into the
channels inside the model. Hyperparameters: rl-baselines3-zoo's Atari DQN (``hyperparams/dqn.yml``),
``learning_starts`` capped at a tenth of the run. Prints a line per 10k steps and, at the end, the
mean return of ``--eval-episodes`` greedy episodes. ``scripts/gpu_check.sh`` runs it on a GPU.
"""

from __future__ import annotations

import argparse
import time

from zoo.core import quiet

quiet.install()  # TensorFlow's logs stay off the console (DLZOO_VERBOSE=1 brings them back)

import gymnasium as gym  # noqa: E402
import keras  # noqa: E402

import agents  # noqa: E402

#: rl-baselines3-zoo's DQN settings for Atari (10M steps there; reported Pong score 20.9).
DQN_ATARI = dict(buffer_size=100_000, learning_rate=1e-4, batch_size=32, learning_starts=100_000,
                 target_update_interval=1000, train_freq=4, gradient_steps=1, exploration_fraction=0.1,
                 exploration_final_eps=0.01)


def make_env(env_id: str, screen_size: int = 84, stack: int = 4):
    """``AtariPreprocessing`` + ``FrameStackObservation``, gymnasium's standard Atari pipeline."""
    import ale_py

    gym.register_envs(ale_py)
    env = gym.wrappers.AtariPreprocessing(gym.make(env_id, frameskip=1), screen_size=screen_size)
    return gym.wrappers.FrameStackObservation(env, stack)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="ALE/Pong-v5")
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=5)
    args = parser.parse_args(argv)

    params = dict(DQN_ATARI, learning_starts=min(DQN_ATARI["learning_starts"], args.steps // 10),
                  log_interval=min(10_000, args.steps))
    agent = agents.DQN(make_env(args.env), policy="cnn", seed=args.seed, **params)
    start = time.perf_counter()

    def report(epoch, logs):
        print(f"{int(logs['timesteps']):>9} steps  episode_return {logs['episode_return']:7.2f}  "
              f"loss {logs.get('loss', float('nan')):.4f}  epsilon {logs['epsilon']:.3f}  "
              f"{logs['steps_per_second']:6.0f} steps/s  {time.perf_counter() - start:6.0f} s", flush=True)

    agent.learn(args.steps, callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=report)])
    train_seconds = time.perf_counter() - start
    mean, std = agents.evaluate(agent, make_env(args.env), n_episodes=args.eval_episodes, seed=args.seed + 1000)
    print(f"{args.env} DQN policy='cnn' {args.steps} steps in {train_seconds:.0f} s: greedy return {mean:.1f} "
          f"+- {std:.1f} over {args.eval_episodes} episodes (training episodes, last 100: "
          f"{agent.history.history['episode_return'][-1]:.1f})", flush=True)


if __name__ == "__main__":
    main()
