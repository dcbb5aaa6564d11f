"""Tiny environments with a known optimum, in the style of stable-baselines3's identity envs."""

import gymnasium as gym
import numpy as np


class DiscreteIdentityEnv(gym.Env):
    """Observation: a one-hot state; reward 1 when the action equals the state. Optimum: ``ep_length``."""

    def __init__(self, n=3, ep_length=20):
        self.n, self.ep_length = n, ep_length
        self.observation_space = gym.spaces.Box(0.0, 1.0, (n,), np.float32)
        self.action_space = gym.spaces.Discrete(n)

    def _obs(self):
        return np.eye(self.n, dtype=np.float32)[self.state]

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.state = 0, int(self.np_random.integers(self.n))
        return self._obs(), {}

    def step(self, action):
        reward = float(int(action) == self.state)
        self.t += 1
        self.state = int(self.np_random.integers(self.n))
        return self._obs(), reward, False, self.t >= self.ep_length, {}


class BoxIdentityEnv(gym.Env):
    """Observation ``s`` uniform in [-1, 1]; reward ``1 - |a - s|``. Optimum: ``ep_length``."""

    def __init__(self, ep_length=20, scale=1.0):
        self.ep_length, self.scale = ep_length, scale
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.action_space = gym.spaces.Box(-scale, scale, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.state = self.np_random.uniform(-1, 1, size=(1,)).astype(np.float32)
        return self.state.copy(), {}

    def step(self, action):
        reward = 1.0 - float(abs(float(np.asarray(action).reshape(-1)[0]) / self.scale - self.state[0]))
        self.t += 1
        self.state = self.np_random.uniform(-1, 1, size=(1,)).astype(np.float32)
        return self.state.copy(), reward, False, self.t >= self.ep_length, {}


class NaNRewardEnv(DiscreteIdentityEnv):
    """Returns a NaN reward from the 5th step on."""

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, (float("nan") if self.t >= 5 else reward), terminated, truncated, info


class CountdownEnv(gym.Env):
    """Reward 1 per step; terminates at step ``terminate_at`` unless the time limit ``truncate_at`` comes first.

    The observation is the step count, so final observations are recognisable.
    """

    def __init__(self, terminate_at=3, truncate_at=100):
        self.terminate_at, self.truncate_at = terminate_at, truncate_at
        self.observation_space = gym.spaces.Box(0.0, 1000.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        obs = np.array([float(self.t)], np.float32)
        return obs, 1.0, self.t >= self.terminate_at, self.t >= self.truncate_at, {}
