"""Evaluation of a trained agent: mean and standard deviation of episode returns."""

from __future__ import annotations

import numbers

import gymnasium as gym
import numpy as np

__all__ = ["evaluate"]


def evaluate(agent, env=None, n_episodes: int = 10, deterministic: bool = True, seed: int | None = None,
             n_envs: int | None = None, return_episode_rewards: bool = False):
    """Run ``n_episodes`` complete episodes with ``agent.predict``; return ``(mean, std)`` of their returns.

    ``env``: an id, a ``gymnasium.Env`` or a same-step-autoreset vector env (default:
    the agent's env id). Episodes run in ``n_envs`` copies at once (default
    ``min(n_episodes, 8)`` for an id); each copy runs a fixed share of the episodes,
    so short episodes are not over-counted (stable-baselines3's ``evaluate_policy``).
    ``seed`` (default: the agent's seed + 10_000) seeds the evaluation envs.
    ``return_episode_rewards=True`` returns the lists of returns and lengths instead.
    """
    from agents.base import make_vec_env

    if not isinstance(n_episodes, numbers.Integral) or isinstance(n_episodes, bool) or n_episodes < 1:
        raise ValueError(f"invalid n_episodes={n_episodes!r}; expected a positive integer")
    env = env if env is not None else agent.env_id
    if env is None:
        raise ValueError(f"{agent.name}: the agent's env has no registered id; pass env= to evaluate")
    if isinstance(env, str):
        n_envs = n_envs or min(n_episodes, 8)
    elif isinstance(env, gym.vector.VectorEnv):
        n_envs = env.num_envs
    else:
        n_envs = 1
    venv = make_vec_env(env, n_envs)
    seed = agent.seed + 10_000 if seed is None else seed
    obs, _ = venv.reset(seed=seed)
    targets = np.array([(n_episodes + i) // n_envs for i in range(n_envs)])
    counts = np.zeros(n_envs, int)
    running = np.zeros(n_envs)
    lengths = np.zeros(n_envs, int)
    returns, episode_lengths = [], []
    while (counts < targets).any():
        actions, _ = agent.predict(np.asarray(obs), deterministic=deterministic)
        obs, rewards, terminated, truncated, _ = venv.step(actions)
        running += rewards
        lengths += 1
        for i in np.flatnonzero(np.logical_or(terminated, truncated)):
            if counts[i] < targets[i]:
                returns.append(float(running[i]))
                episode_lengths.append(int(lengths[i]))
                counts[i] += 1
            running[i], lengths[i] = 0.0, 0
    if isinstance(env, str):
        venv.close()
    if return_episode_rewards:
        return returns, episode_lengths
    return float(np.mean(returns)), float(np.std(returns))
