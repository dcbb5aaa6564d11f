"""Deep Deterministic Policy Gradient (Lillicrap et al. 2016).

As in stable-baselines3, DDPG is TD3's update (``agents.td3``) with one critic,
an actor update every step and no target policy smoothing; only the
hyperparameters differ.
"""

from __future__ import annotations

import dataclasses

from agents.registry import register_agent
from agents.td3 import TD3, TD3Config

__all__ = ["DDPG", "DDPGConfig"]


@dataclasses.dataclass
class DDPGConfig(TD3Config):
    """DDPG hyperparameters (stable-baselines3 defaults; rl-zoo's per env in ``DDPG.RL_ZOO``)."""

    n_critics: int = 1
    """One critic (no clipped double Q)."""
    policy_delay: int = 1
    """The actor is updated every gradient step."""
    target_policy_noise: float = 0.0
    """No target policy smoothing."""


@register_agent
class DDPG(TD3):
    """DDPG for Box action spaces."""

    name = "DDPG"
    Config = DDPGConfig
    RL_ZOO = {
        "Pendulum-v1": dict(gamma=0.98, buffer_size=200_000, learning_starts=10_000, action_noise=0.1,
                            gradient_steps=1, train_freq=1, learning_rate=1e-3, net_arch=(400, 300)),
        "MountainCarContinuous-v0": dict(action_noise=0.5, action_noise_type="ornstein-uhlenbeck", learning_rate=1e-3),
    }
