"""A tiny image environment with a known optimum, in the style of ``identity_envs``."""

import gymnasium as gym
import numpy as np

from agents.policies import image_layout


class ImageIdentityEnv(gym.Env):
    """Observation: a uint8 image whose lit vertical band (one of ``n``) names the right action.

    Discrete: reward 1 when the action is the band's index. ``continuous=True``: a Box action in
    [-1, 1], reward ``1 - |a - target| / 2``, the band's target spread over [-1, 1]. Optimum:
    ``ep_length``. ``shape``: ``(H, W, C)``, ``(H, W)`` or a frame stack ``(S, H, W)`` /
    ``(S, H, W, C)`` (the layouts ``agents.policies.image_layout`` reads).
    """

    def __init__(self, n=2, shape=(36, 36, 1), ep_length=20, continuous=False):
        self.n, self.shape, self.ep_length, self.continuous = n, tuple(shape), ep_length, continuous
        self.observation_space = gym.spaces.Box(0, 255, self.shape, np.uint8)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32) if continuous else gym.spaces.Discrete(n)

    def _obs(self):
        kind, (h, w, _) = image_layout(self.shape)
        edges = np.linspace(0, w, self.n + 1).astype(int)
        image = np.zeros((h, w), np.uint8)
        image[:, edges[self.state]:edges[self.state + 1]] = 255
        index = {"hw": np.s_[:, :], "hwc": np.s_[:, :, None], "chw": np.s_[None], "shwc": np.s_[None, :, :, None]}
        return np.broadcast_to(image[index[kind]], self.shape).copy()

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.state = 0, int(self.np_random.integers(self.n))
        return self._obs(), {}

    def step(self, action):
        if self.continuous:
            target = -1.0 + 2.0 * self.state / max(self.n - 1, 1)
            reward = 1.0 - abs(float(np.asarray(action).reshape(-1)[0]) - target) / 2.0
        else:
            reward = float(int(action) == self.state)
        self.t += 1
        self.state = int(self.np_random.integers(self.n))
        return self._obs(), reward, False, self.t >= self.ep_length, {}
