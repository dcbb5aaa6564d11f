"""The agents' networks: zoo ``mlp`` models, the dueling head, observation normalisation, free parameters.

Every network is an ordinary Keras model from ``zoo.get("mlp", ...)``, so it
saves, exports and quantizes like any zoo model. ``AgentModel`` holds all of an
agent's networks, so Keras callbacks see one model. (The distribution math is in
``agents.distributions``, Polyak averaging in ``agents.optim``, the NumPy forward
pass in ``agents.numpy_forward``; their old names here still work.)
"""

from __future__ import annotations

import keras
import numpy as np

from agents.distributions import (
    LOG_STD_MAX,
    LOG_STD_MIN,
    categorical_entropy,
    categorical_log_prob,
    gaussian_entropy,
    gaussian_log_prob,
    squashed_gaussian_log_prob,
)
from agents.numpy_forward import NumpyForward, VariableReader, VariableWriter
from agents.optim import polyak_update

__all__ = [
    "mlp",
    "dueling_q_network",
    "dueling_head",
    "DuelingAggregation",
    "ObsNormalizer",
    "RewardNormalizer",
    "AgentModel",
    "Parameter",
    # re-exported from their own modules, for the old import paths
    "NumpyForward",
    "polyak_update",
    "categorical_log_prob",
    "categorical_entropy",
    "gaussian_log_prob",
    "gaussian_entropy",
    "squashed_gaussian_log_prob",
    "LOG_STD_MIN",
    "LOG_STD_MAX",
]


def mlp(input_dim: int, outputs: int, hidden=(64, 64), activation="tanh", name="mlp", include_top=True,
        output_activation=None):
    """A zoo ``mlp`` in regression mode: ``input_dim`` floats -> ``outputs`` linear units.

    ``output_activation`` (e.g. ``"tanh"`` for deterministic actors) is appended after the head.
    """
    import zoo

    model = zoo.get(
        "mlp",
        input_shape=(int(input_dim),),
        task="regression",
        num_outputs=int(max(outputs, 1)),
        hidden_units=tuple(int(h) for h in hidden),
        activation=activation,
        include_top=include_top,
    )
    if output_activation is not None:
        out = keras.layers.Activation(output_activation, name="squash")(model.output)
        model = keras.Model(model.input, out)
    model.name = name
    return model


def dueling_q_network(input_dim: int, n_actions: int, hidden=(64, 64), activation="relu", name="q"):
    """Dueling Q-network (Wang et al. 2016): Q = V + A - mean(A), on a zoo ``mlp`` trunk."""
    return dueling_head(mlp(input_dim, 1, hidden, activation, name=f"{name}_trunk", include_top=False), n_actions, name)


@keras.saving.register_keras_serializable(package="agents")
class DuelingAggregation(keras.layers.Layer):
    """``[V, A] -> V + A - mean(A)``: the dueling head's sum, a named layer (not a ``Lambda``) so that
    exported models load without unsafe deserialisation and ``NumpyForward`` can run it."""

    def call(self, inputs):
        value, advantage = inputs
        return value + advantage - keras.ops.mean(advantage, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shapes):
        return input_shapes[1]


def dueling_head(trunk, n_actions: int, name="q"):
    """``trunk`` (observations -> features) with the dueling head on top: Q = V + A - mean(A)."""
    x = trunk.output
    value = keras.layers.Dense(1, name="value")(x)
    advantage = keras.layers.Dense(n_actions, name="advantage")(x)
    q = DuelingAggregation(name="predictions")([value, advantage])
    return keras.Model(trunk.input, q, name=name)


def combine_moments(mean, var, count, b_mean, b_var, b_count):
    """Running ``(mean, var, count)`` with a batch's folded in (parallel Welford, as SB3's RunningMeanStd)."""
    total = count + b_count
    delta = b_mean - mean
    m2 = var * count + b_var * b_count + delta**2 * count * b_count / total
    return mean + delta * b_count / total, m2 / total, total


def statistics_io(normalizer):
    """``(reader, writer)`` of a normaliser's ``(mean, var, count)`` weights, one TensorFlow call each
    (made on first use and kept outside Keras's attribute tracking)."""
    pair = getattr(normalizer, "_statistics_io", None)
    if pair is None:
        stats = (normalizer.mean, normalizer.var, normalizer.count)
        pair = (VariableReader(stats), VariableWriter(stats))
        object.__setattr__(normalizer, "_statistics_io", pair)
    return pair


class ObsNormalizer(keras.layers.Layer):
    """Running mean/variance observation normalisation, clipped to ``[-clip, clip]``.

    The statistics are non-trainable weights, so they are saved with the agent
    and travel inside ``agent.policy_model``. ``enabled=False`` is the identity.
    """

    def __init__(self, dim: int, enabled: bool = False, clip: float = 10.0, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.enabled, self.clip, self.epsilon = int(dim), bool(enabled), float(clip), float(epsilon)
        self.mean = self.add_weight(shape=(self.dim,), initializer="zeros", trainable=False, name="mean")
        self.var = self.add_weight(shape=(self.dim,), initializer="ones", trainable=False, name="var")
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")
        self.built = True

    def call(self, x):
        x = keras.ops.cast(x, "float32")
        if not self.enabled:
            return x
        x = (x - self.mean) / keras.ops.sqrt(self.var + self.epsilon)
        return keras.ops.clip(x, -self.clip, self.clip)

    def sync(self, values=None):
        """Snapshot the statistics for ``numpy`` (call after they change; ``update`` does); ``values``:
        the weights ``(mean, var, count)`` already read by the caller (``fold`` starts from them)."""
        if self.enabled:
            self._stats = tuple(values if values is not None else statistics_io(self)[0]())
            mean, var = self._stats[:2]
            self._snapshot = (mean, np.sqrt(var + self.epsilon))

    def numpy(self, x):
        """The same normalisation in NumPy (for the env loop), with the last ``sync``'s statistics."""
        if not self.enabled:
            return np.asarray(x)  # as it is: image policies act on uint8 frames
        x = np.asarray(x, np.float32)
        if getattr(self, "_snapshot", None) is None:
            self.sync()
        mean, std = self._snapshot
        return np.clip((x - mean) / std, -self.clip, self.clip)

    def fold(self, batch):
        """The last ``sync``'s statistics with a batch of observations folded in (parallel Welford):
        ``(mean, var, count)`` as the weights hold them (float32), not yet written (``update`` writes
        them; an on-policy update assigns them inside its own graph call)."""
        batch = np.asarray(batch, dtype=np.float64).reshape(-1, self.dim)
        mean, var, count = (np.asarray(v, np.float64) for v in self._stats)
        mean, var, total = combine_moments(mean, var, count, batch.mean(0), batch.var(0), batch.shape[0])
        return mean.astype("float32"), var.astype("float32"), np.float32(total)

    def update(self, batch):
        """Fold a batch of observations into the running statistics (parallel Welford)."""
        if not self.enabled:
            return
        reader, writer = statistics_io(self)
        self._stats = tuple(reader())
        stats = self.fold(batch)
        writer(stats)
        self.sync(stats)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "enabled": self.enabled, "clip": self.clip,
                "epsilon": self.epsilon}


class RewardNormalizer(keras.layers.Layer):
    """stable-baselines3's ``VecNormalize(norm_reward=True)``: rewards divided by the running standard
    deviation of each env's discounted return, clipped to ``[-clip, clip]`` (learning only; episode
    returns stay raw).

    The statistics (SB3's ``RunningMeanStd`` start: mean 0, variance 1, count 1e-4) live in Python
    while training, since a variable read or write per env step would cost more than the step, and
    are non-trainable weights for saving: ``flush()`` writes them there, ``pull()`` reads them back.
    The per-env discounted returns are ``returns`` (in checkpoints).
    """

    def __init__(self, gamma: float = 0.99, enabled: bool = False, clip: float = 10.0, epsilon: float = 1e-8,
                 **kwargs):
        super().__init__(**kwargs)
        self.gamma, self.enabled, self.clip, self.epsilon = float(gamma), bool(enabled), float(clip), float(epsilon)
        self.mean = self.add_weight(shape=(), initializer="zeros", trainable=False, name="mean")
        self.var = self.add_weight(shape=(), initializer="ones", trainable=False, name="var")
        self.count = self.add_weight(shape=(), initializer=keras.initializers.Constant(1e-4), trainable=False,
                                     name="count")
        self.returns = None
        self.stats = [0.0, 1.0, 1e-4]  # mean, var, count
        self.built = True

    def flush(self):
        """Write the statistics into the weights (before they are saved; nothing when off)."""
        if self.enabled:
            statistics_io(self)[1](self.stats)

    def pull(self):
        """Read the statistics back from the weights (after they are loaded)."""
        self.stats = [float(v.numpy()) for v in (self.mean, self.var, self.count)]

    def scale(self, rewards, dones):
        """Fold ``rewards`` into the discounted returns and their statistics; the scaled rewards
        (``rewards`` as they are when not ``enabled``)."""
        if not self.enabled:
            return rewards
        returns = self.returns  # updated in place: setting a Keras layer's attribute costs ~0.1 ms
        if returns is None or returns.shape != rewards.shape:
            returns = self.returns = np.zeros(rewards.shape, np.float64)
        returns *= self.gamma
        returns += rewards
        stats = combine_moments(*self.stats, returns.mean(), returns.var(), returns.size)
        # rounded as the float32 weights hold them, so that a run resumed from them goes on identically
        self.stats[:] = [float(np.float32(x)) for x in stats]
        returns[dones] = 0.0
        return np.clip(rewards / np.sqrt(self.stats[1] + self.epsilon), -self.clip, self.clip).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma, "enabled": self.enabled, "clip": self.clip,
                "epsilon": self.epsilon}


class Parameter(keras.layers.Layer):
    """A free trainable vector or matrix (PPO's state-independent log std, SAC's log alpha, gSDE's log std).

    ``size``: a length, or a shape tuple. Calling it returns the value, whatever the input
    (the input only places it in a graph).
    """

    def __init__(self, size, initial: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        shape = tuple(int(n) for n in size) if isinstance(size, (tuple, list)) else (int(size),)
        self.size, self.initial = (shape[0] if len(shape) == 1 else shape), float(initial)
        self.value = self.add_weight(shape=shape, initializer=keras.initializers.Constant(self.initial),
                                     trainable=True, name="value")
        self.built = True

    def call(self, x=None):
        return keras.ops.convert_to_tensor(self.value)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "initial": self.initial}


class AgentModel(keras.Model):
    """Holds every network of an agent, so that Keras callbacks see one model.

    ``EarlyStopping(restore_best_weights=True)``, ``ModelCheckpoint(save_weights_only=True)``
    and ``TensorBoard`` work on it as on any model; ``stop_training`` stops ``learn``.
    Calling it runs the policy network on raw observations.
    """

    def __init__(self, networks: dict, normalizer: ObsNormalizer, policy: str, optimizer=None,
                 reward_normalizer: RewardNormalizer | None = None):
        super().__init__(name="agent")
        self.normalizer = normalizer
        if reward_normalizer is not None and reward_normalizer.enabled:  # saved only when on: older files load
            self.reward_normalizer = reward_normalizer
        self.network_names = tuple(networks)
        for key, net in networks.items():
            setattr(self, key, net)
        self.policy_name = policy
        self.optimizer = optimizer
        self.built = True

    def call(self, obs):
        return getattr(self, self.policy_name)(self.normalizer(obs))
