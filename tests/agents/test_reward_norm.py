"""``normalize_reward`` (stable-baselines3's ``VecNormalize(norm_reward=True)``): the scaling, raw episode
returns, saving, and rl-zoo's ``normalize: true``."""

import numpy as np
import pytest

import agents
from agents.networks import RewardNormalizer


def sb3_reference(rewards, dones, gamma, clip=10.0, eps=1e-8):
    """VecNormalize's reward path, written out: RunningMeanStd (count 1e-4) of the discounted returns."""
    mean, var, count = 0.0, 1.0, 1e-4
    returns, out = np.zeros(rewards.shape[1]), []
    for r, d in zip(rewards, dones):
        returns = returns * gamma + r
        b_mean, b_var, b_count = returns.mean(), returns.var(), returns.size
        delta, total = b_mean - mean, count + b_count
        mean, var, count = mean + delta * b_count / total, \
            (var * count + b_var * b_count + delta**2 * count * b_count / total) / total, total
        out.append(np.clip(r / np.sqrt(var + eps), -clip, clip))
        returns[d] = 0.0
    return np.array(out)


def steps(n=200, envs=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(-1.0, 2.0, size=(n, envs)).astype(np.float32), rng.random((n, envs)) < 0.05


def test_scaling_follows_vecnormalize():
    rewards, dones = steps()
    norm = RewardNormalizer(0.95, enabled=True)
    ours = np.array([norm.scale(r, d) for r, d in zip(rewards, dones)])
    np.testing.assert_allclose(ours, sb3_reference(rewards, dones, 0.95), rtol=1e-5, atol=1e-6)
    first = rewards[0]
    assert RewardNormalizer(0.95).scale(first, dones[0]) is first  # off: the rewards as they are


def test_matches_stable_baselines3_where_installed():
    vec = pytest.importorskip("stable_baselines3.common.vec_env")
    import gymnasium as gym

    class Rewards(gym.Env):  # replays a fixed reward sequence
        observation_space, action_space = gym.spaces.Box(-1, 1, (1,)), gym.spaces.Discrete(2)

        def __init__(self, column):
            self.column, self.t = column, 0

        def reset(self, seed=None, options=None):
            return np.zeros(1, np.float32), {}

        def step(self, action):
            self.t += 1
            return np.zeros(1, np.float32), float(REWARDS[self.t - 1, self.column]), bool(DONES[self.t - 1,
                                                                                                  self.column]), False, {}

    global REWARDS, DONES
    REWARDS, DONES = steps(50, 2, seed=1)
    venv = vec.VecNormalize(vec.DummyVecEnv([lambda c=c: Rewards(c) for c in range(2)]), norm_obs=False, gamma=0.9)
    venv.reset()
    theirs = np.array([venv.step(np.zeros(2, int))[1] for _ in range(50)])
    norm = RewardNormalizer(0.9, enabled=True)
    ours = np.array([norm.scale(r, d) for r, d in zip(REWARDS, DONES)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_learning_sees_scaled_rewards_and_episodes_stay_raw(tmp_path):
    agent = agents.make("A2C", "CartPole-v1", seed=0, n_envs=2, normalize_reward=True, use_rl_zoo=False)
    agent.learn(400)
    assert agent._episode_returns and all(r == int(r) and r >= 8 for r in agent._episode_returns)  # raw lengths
    assert float(agent.reward_normalizer.count.numpy()) > 400  # one update per vector step and env
    loaded = agents.load(agent.save(tmp_path / "a2c"))
    for name in ("mean", "var", "count"):
        assert float(getattr(loaded.reward_normalizer, name).numpy()) == float(
            getattr(agent.reward_normalizer, name).numpy())


def test_rl_zoo_normalize_true_is_both():
    for name, env in (("PPO", "Pendulum-v1"), ("PPO", "Acrobot-v1"), ("A2C", "Acrobot-v1")):
        config = agents.make(name, env).config
        assert config.normalize_obs and config.normalize_reward, (name, env)
    assert not agents.make("PPO", "CartPole-v1").config.normalize_reward
