"""dlzoo's reinforcement-learning agents, with the stable-baselines3 API.

    import agents
    agent = agents.PPO("CartPole-v1", seed=0).learn(100_000)
    mean, std = agents.evaluate(agent, "CartPole-v1", n_episodes=10)
    agent.save("ppo_cartpole.zip"); agent = agents.load("ppo_cartpole.zip")

Layout (stable-baselines3's seams, one job per file): ``registry`` (which agents
exist), ``env_util`` (vector envs, sync or async), ``env_checker``
(``check_env``), ``config`` (hyperparameters), ``base``
(``Agent``: learn, predict, evaluate, policy_model), ``on_policy`` and
``off_policy`` (the machinery), ``policies`` (``policy=``: MLP, CNN and zoo
backbones), ``save_util``, ``distributions``, ``numpy_forward``, ``networks``,
``buffers``, ``optim``, ``evaluation``; and one file per algorithm holding its
config, networks and one training step. The command line (``python -m agents train |
hyperparams | enjoy | benchmark``) is ``cli``, with ``hyperparams`` (values and their
sources), ``monitor`` (progress bar, episode log), ``enjoy`` (play, GIF) and ``benchmark``.

The agent classes and their configs (``agents.PPO``, ``agents.PPOConfig`` ...)
come from the registry: every registered agent, built in or from a plugin
(entry-point group ``dlzoo.agents``), is an attribute of this package.
"""


from zoo.core import quiet as _quiet  # noqa: E402  (TensorFlow's logs stay off the console)

_quiet.install()

from agents import registry as _registry  # noqa: E402
from agents.base import Agent  # noqa: E402
from agents.config import AgentConfig, OffPolicyConfig, OnPolicyConfig  # noqa: E402
from agents.env_checker import check_env  # noqa: E402
from agents.env_util import make_vec_env  # noqa: E402
from agents.evaluation import EvalCallback, evaluate  # noqa: E402
from agents.off_policy import OffPolicyAgent  # noqa: E402
from agents.on_policy import OnPolicyAgent  # noqa: E402
from agents.optim import (  # noqa: E402
    AdamTorchLike,
    RMSpropTFLike,
    RMSpropTorchLike,
    apply_gradients,
    clip_gradients,
    linear_schedule,
    polyak_update,
)
from agents.registry import list_agents, make, register_agent  # noqa: E402
from agents.save_util import load  # noqa: E402

__all__ = [
    "Agent", "AgentConfig", "OnPolicyAgent", "OffPolicyAgent", "OnPolicyConfig", "OffPolicyConfig",
    "check_env", "EvalCallback", "evaluate", "linear_schedule", "list_agents", "load", "make", "make_vec_env",
    "register_agent", "apply_gradients", "clip_gradients", "polyak_update", "AdamTorchLike", "RMSpropTorchLike",
    "RMSpropTFLike",
]
_registry.discover()  # the built-in algorithm files (plugins load on the first registry access)
__all__ += _registry.exported_names()


def __getattr__(name):
    """``agents.PPO``, ``agents.PPOConfig``, a plugin's agent: looked up in the registry (loading plugins once)."""
    if not name.startswith("__"):
        exported = _registry.exported()
        if name in exported:
            return exported[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_registry.exported()))
