"""dlzoo's reinforcement-learning agents, with the stable-baselines3 API.

    import agents
    agent = agents.PPO("CartPole-v1", seed=0).learn(100_000)
    mean, std = agents.evaluate(agent, "CartPole-v1", n_episodes=10)
    agent.save("ppo_cartpole.zip"); agent = agents.load("ppo_cartpole.zip")

One file per algorithm holds its loss and update; ``agents.base`` holds the
rest (vector envs, rollouts, replay, callbacks, save/load).
"""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from agents.base import (  # noqa: E402
    Agent,
    AgentConfig,
    OffPolicyAgent,
    OffPolicyConfig,
    OnPolicyAgent,
    linear_schedule,
    list_agents,
    load,
    make,
    make_vec_env,
)
from agents.evaluation import EvalCallback, evaluate  # noqa: E402
from agents.a2c import A2C, A2CConfig  # noqa: E402
from agents.ddpg import DDPG, DDPGConfig  # noqa: E402
from agents.dqn import DQN, DQNConfig  # noqa: E402
from agents.ppo import PPO, PPOConfig  # noqa: E402
from agents.reinforce import REINFORCE, REINFORCEConfig  # noqa: E402
from agents.sac import SAC, SACConfig  # noqa: E402
from agents.td3 import TD3, TD3Config  # noqa: E402

__all__ = [
    "Agent", "AgentConfig", "OnPolicyAgent", "OffPolicyAgent", "OffPolicyConfig",
    "A2C", "A2CConfig", "DDPG", "DDPGConfig", "DQN", "DQNConfig", "PPO", "PPOConfig",
    "REINFORCE", "REINFORCEConfig", "SAC", "SACConfig", "TD3", "TD3Config",
    "EvalCallback", "evaluate", "linear_schedule", "list_agents", "load", "make", "make_vec_env",
]
