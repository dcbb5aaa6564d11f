"""Hyperparameters: ``AgentConfig`` (every agent), ``OnPolicyConfig`` and ``OffPolicyConfig``.

An algorithm's config subclasses one of them, adds its own fields (each with a
docstring) and redeclares a field to change its default. ``build_config`` turns
keyword arguments into a checked config, naming the first bad value.
"""

from __future__ import annotations

import dataclasses
import difflib
import numbers

from zoo.core.checks import check_choice, fail, is_int

__all__ = ["AgentConfig", "OnPolicyConfig", "OffPolicyConfig", "build_config", "check_schedule"]


#: Annotation -> (test, what it accepts): the types every config field is checked against first.
_TYPES = {
    "int": (is_int, "an integer"),
    "float": (lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "True or False"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "tuple": (lambda v: isinstance(v, tuple), "a tuple"),
}


def _check_types(config, agent):
    """A ``TypeError`` naming the first field whose value is not of its annotated type (``n_steps='8'``)."""
    for field in dataclasses.fields(config):
        text = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))
        kinds = [k.strip() for k in text.split("|")]  # "float | None"; a plugin's config may hold real types
        value = getattr(config, field.name)
        if (value is None and "None" in kinds) or any(k not in _TYPES for k in kinds if k != "None"):
            continue  # None where allowed; an annotation this check does not know is the config's own business
        if not any(_TYPES[k][0](value) for k in kinds if k != "None"):
            accepted = " or ".join(_TYPES[k][1] for k in kinds if k != "None") + (" or None" if "None" in kinds else "")
            fail(field.name, value, accepted, agent, error=TypeError)


ADAM_FORMS = ("keras", "torch")
"""``AgentConfig.adam_form``'s choices (``agents.optim.make_adam``)."""


def _check_positive(config, names, agent):
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value > 0:
            fail(name, value, "a positive number", agent)


@dataclasses.dataclass
class AgentConfig:
    """Hyperparameters shared by every agent (each algorithm subclasses this)."""

    learning_rate: float = 3e-4
    """Optimizer step size."""
    lr_schedule: str = "constant"
    """``"constant"`` or ``"linear"`` (decays to 0 over ``learn``, rl-zoo's ``lin_X``)."""
    gamma: float = 0.99
    """Discount factor."""
    n_envs: int = 1
    """Number of environment copies in the vector env (when ``env`` is an id; ``vec_env=`` says sync or async)."""
    net_arch: tuple = (64, 64)
    """Hidden units of every network (zoo ``mlp`` ``hidden_units``)."""
    activation: str = "tanh"
    """Hidden activation of every network."""
    normalize_obs: bool = False
    """Normalise observations with running mean and variance (saved with the agent)."""
    normalize_reward: bool = False
    """Scale rewards by the running std of the discounted return (SB3's ``VecNormalize(norm_reward=True)``;
    rl-zoo's ``normalize: true`` turns on both)."""
    max_grad_norm: float | None = 0.5
    """Clip the global gradient norm (``None``: no clipping)."""
    adam_form: str = "keras"
    """Where Adam adds its epsilon: ``"keras"``, to ``sqrt(v)`` before the bias correction (Keras's
    ``Adam``); ``"torch"``, after it, with PyTorch's epsilon (1e-8; PPO and REINFORCE 1e-5), as
    stable-baselines3 steps (``agents.AdamTorchLike``). Neither is better on the seeds measured
    (docs/agents.md). A2C steps with RMSprop (``rms_prop_form``)."""
    stats_window: int = 100
    """``episode_return`` and ``episode_length`` are means over this many last episodes."""
    jit_compile: bool = True
    """Compile the update with XLA (``tf.function(jit_compile=True)``); False: plain graph."""

    _positive = ()  # fields that must be > 0, checked after learning_rate, n_envs, stats_window

    def check(self, agent: str):
        """Raise ``TypeError`` (wrong type) or ``ValueError`` naming the first invalid hyperparameter."""
        _check_types(self, agent)
        _check_positive(self, ("learning_rate", "n_envs", "stats_window") + tuple(self._positive), agent)
        if not isinstance(self.gamma, numbers.Real) or not 0 < self.gamma <= 1:
            fail("gamma", self.gamma, "a number in (0, 1]", agent)
        check_schedule("lr_schedule", self.lr_schedule, agent)
        check_choice("adam_form", self.adam_form, ADAM_FORMS, agent)
        arch = self.net_arch
        if not isinstance(arch, (tuple, list)) or not all(isinstance(u, int) and u > 0 for u in arch):
            fail("net_arch", arch, "a tuple of positive integers", agent)
        self.net_arch = tuple(arch)
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            fail("max_grad_norm", self.max_grad_norm, "None or > 0", agent)


@dataclasses.dataclass
class OnPolicyConfig(AgentConfig):
    """Hyperparameters shared by the rollout agents (PPO, A2C, REINFORCE)."""

    n_steps: int = 2048
    """Steps per env in one rollout (a rollout holds ``n_steps * n_envs`` transitions)."""
    ent_coef: float = 0.0
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value loss weight."""
    normalize_advantage: bool = True
    """Standardise the advantages (in each minibatch, or each rollout without minibatches)."""
    log_std_init: float = 0.0
    """Initial log standard deviation of the Gaussian policy (Box actions; of gSDE's noise weights with ``use_sde``)."""
    ortho_init: bool = True
    """stable-baselines3's initialisation: orthogonal weights (gain sqrt 2 in hidden and Nature-CNN layers,
    0.01 on the policy head, 1 on the value head), zero biases. False: Keras's Glorot-uniform."""
    use_sde: bool = False
    """Generalized state-dependent exploration (``agents.gsde``, Box actions): noise ``latent(s) @ W``."""
    sde_sample_freq: int = -1
    """With ``use_sde``: steps between two draws of the noise matrices (-1: one draw per rollout)."""
    use_expln: bool = False
    """With ``use_sde``: the noise std is ``exp`` below 0 and ``log1p(x) + 1`` above (SB3's ``use_expln``)."""

    _positive = ("n_steps",)


@dataclasses.dataclass
class OffPolicyConfig(AgentConfig):
    """Hyperparameters shared by the replay-buffer agents (DQN, SAC, TD3, DDPG)."""

    buffer_size: int = 1_000_000
    """Replay capacity in transitions."""
    learning_starts: int = 100
    """Env steps of uniform random actions before the first update."""
    batch_size: int = 256
    """Minibatch size of every gradient step."""
    tau: float = 0.005
    """Polyak coefficient of the target networks (1: hard copy)."""
    train_freq: int = 1
    """Steps of each env (vector steps) per collection phase, counted from the first step as SB3's: a phase's
    ``gradient_steps`` run at its end once more than ``learning_starts`` transitions are collected."""
    gradient_steps: int = 1
    """Gradient steps per training phase (-1: one per transition collected, ``train_freq * n_envs``)."""
    log_interval: int = 1000
    """Env steps per reported epoch (callbacks' ``on_epoch_end``)."""
    jit_compile: bool = False
    activation: str = "relu"
    net_arch: tuple = (256, 256)
    max_grad_norm: float | None = None
    torch_init: bool = True
    """stable-baselines3's (PyTorch's) initialisation: kernels and biases uniform in ``±1/sqrt(fan_in)``
    (``agents.initializers``). False: Keras's Glorot-uniform kernels and zero biases."""

    _positive = ("buffer_size", "batch_size", "train_freq", "log_interval")

    def check(self, agent):
        super().check(agent)
        if not 0 < self.tau <= 1:
            fail("tau", self.tau, "a number in (0, 1]", agent)
        if self.learning_starts < 0:
            fail("learning_starts", self.learning_starts, ">= 0", agent)
        if self.gradient_steps == 0 or self.gradient_steps < -1:
            fail("gradient_steps", self.gradient_steps, "a positive integer or -1", agent)


def build_config(cls, agent: str, defaults: dict, overrides: dict):
    """``cls(**defaults, **overrides)`` checked; unknown names fail with close matches."""
    names = [f.name for f in dataclasses.fields(cls)]
    for key in overrides:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"{agent}: unknown hyperparameter {key!r}{hint}; accepted: {', '.join(sorted(names))}")
    values = {**{k: v for k, v in defaults.items() if k in names}, **overrides}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    config = cls(**values)
    config.check(agent)
    return config


def check_schedule(name: str, value, agent: str):
    """Raise unless ``value`` names a schedule: ``"constant"`` or ``"linear"``."""
    if value not in ("constant", "linear"):
        fail(name, value, "'constant' or 'linear'", agent)
