"""Reproduce-suite entries of the RL agents: DQN and PPO on CartPole-v1 with rl-baselines3-zoo's
hyperparameters and dlzoo's changes to them (``DQN.TUNED``; the classes apply both for that env id),
evaluated over 10 deterministic episodes.

The reference is CartPole-v1's ``reward_threshold`` (475; the maximum is 500). As in
rl-baselines3-zoo, an ``EvalCallback`` evaluates the greedy policy during training and the
agent keeps its best weights; ``stop_at=500`` ends training once an evaluation reaches 500.
DQN's final policy after 50k steps, on seeds 0-4: docs/agents.md#every-seed-against-stable-baselines3.
"""

from __future__ import annotations

import os

from zoo.reproduce import entry

CARTPOLE_THRESHOLD = 475.0


def _train_and_evaluate(name, env_id, steps, out_dir, seed=0, n_episodes=10):
    import keras

    import agents

    agent = agents.make(name, env_id, seed=seed)
    log = os.path.join(out_dir, f"{name.lower()}_{env_id}.csv")
    every = max(1, 5000 // agent._steps_per_epoch())
    best = agents.EvalCallback(env_id, n_episodes=5, every=every, stop_at=500.0, seed=seed + 500)
    agent.learn(steps, callbacks=[best, keras.callbacks.CSVLogger(log)])
    mean, std = agents.evaluate(agent, env_id, n_episodes=n_episodes, seed=seed + 1000)
    history = {k: v for k, v in agent.history.history.items() if k in ("episode_return", "eval_return", "timesteps")}
    return {"value": mean, "std": std, "history": history}


@entry("ppo_cartpole", data="CartPole-v1", metric="mean_return", reference=CARTPOLE_THRESHOLD)
def ppo_cartpole(out_dir):
    """PPO, 100k steps."""
    return _train_and_evaluate("PPO", "CartPole-v1", 100_000, out_dir)


@entry("dqn_cartpole", data="CartPole-v1", metric="mean_return", reference=CARTPOLE_THRESHOLD)
def dqn_cartpole(out_dir):
    """DQN, 50k steps."""
    return _train_and_evaluate("DQN", "CartPole-v1", 50_000, out_dir)
