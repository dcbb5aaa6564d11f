"""The parameter updates every agent shares: clipped gradient steps, Polyak averaging, linear schedules.

Small functions with their own unit tests (``tests/agents/test_math.py``): an
algorithm file calls them instead of writing its own.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.core.checks import check_number

__all__ = ["apply_gradients", "clip_gradients", "polyak_update", "linear_schedule", "interpolate", "make_adam",
           "AdamTorchLike", "RMSpropTorchLike", "RMSpropTFLike"]


def clip_gradients(grads, max_grad_norm: float | None):
    """``grads`` rescaled so that their global norm is at most ``max_grad_norm`` (``None``: unchanged)."""
    if max_grad_norm is None:
        return grads
    return tf.clip_by_global_norm(grads, max_grad_norm)[0]


def apply_gradients(optimizer, grads, variables, max_grad_norm: float | None = None):
    """One optimizer step: clip ``grads`` by global norm (unless ``None``), then apply them to ``variables``."""
    optimizer.apply_gradients(zip(clip_gradients(grads, max_grad_norm), variables))


def polyak_update(target_vars, source_vars, tau):
    """``target <- tau * source + (1 - tau) * target`` for every pair (tau=1 copies)."""
    for t, s in zip(target_vars, source_vars):
        t.assign(tau * s + (1.0 - tau) * t)


def linear_schedule(start: float, end: float, fraction: float, progress: float) -> float:
    """Linear interpolation from ``start`` to ``end`` over the first ``fraction`` of training.

    ``progress`` is the fraction of ``learn``'s timesteps done (0 at the start, 1 at
    the end); after ``fraction`` the value stays at ``end``. DQN's epsilon, and
    with ``fraction=1`` the linearly decaying learning rates and clip ranges.
    """
    for arg, value in (("start", start), ("end", end), ("fraction", fraction), ("progress", progress)):
        check_number(arg, value, owner="linear_schedule")
    return interpolate(start, end, fraction, progress)


def interpolate(start: float, end: float, fraction: float, progress: float) -> float:
    """``linear_schedule`` without its argument checks: DQN's epsilon at every env step, from checked settings."""
    if fraction <= 0:
        return float(end)
    return float(start + (end - start) * min(max(progress, 0.0) / fraction, 1.0))


def make_adam(form: str, learning_rate: float, keras_epsilon: float = 1e-7, torch_epsilon: float = 1e-8):
    """An agent's Adam (``config.adam_form``): ``"keras"``, Keras's with ``keras_epsilon`` (its default);
    ``"torch"``, ``AdamTorchLike`` with ``torch_epsilon`` (PyTorch's default)."""
    if form == "torch":
        return AdamTorchLike(learning_rate, epsilon=torch_epsilon)
    return keras.optimizers.Adam(learning_rate, epsilon=keras_epsilon)


@keras.saving.register_keras_serializable(package="agents")
class AdamTorchLike(keras.optimizers.Adam):
    """Adam with epsilon added after the bias-corrected square root, as PyTorch's (and so stable-baselines3's).

    Keras folds both bias corrections into the step size and adds ``eps`` to the raw ``sqrt(v)``:
    its epsilon is PyTorch's ``eps / sqrt(1 - beta_2 ** t)``, 31.6x larger on the first step and
    1.6x after 1000. PyTorch steps by ``lr / (1 - beta_1 ** t) * m / (sqrt(v / (1 - beta_2 ** t)) + eps)``.
    Not AMSGrad.
    """

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, name="adam_torch_like", **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, name=name,
                         **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        ops, dtype = keras.ops, variable.dtype
        lr, gradient = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        correction_1 = 1 - ops.power(ops.cast(self.beta_1, dtype), step)
        correction_2 = 1 - ops.power(ops.cast(self.beta_2, dtype), step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        self.assign_add(v, (ops.square(gradient) - v) * (1 - self.beta_2))
        denominator = ops.sqrt(v) / ops.sqrt(correction_2) + self.epsilon
        self.assign_sub(variable, lr / correction_1 * m / denominator)


@keras.saving.register_keras_serializable(package="agents")
class RMSpropTorchLike(keras.optimizers.RMSprop):
    """RMSprop with epsilon added after the square root, as PyTorch's (and so stable-baselines3's A2C).

    Keras divides by ``sqrt(v + eps)``, PyTorch by ``sqrt(v) + eps``. With A2C's
    ``eps=1e-5`` the Keras form floors the denominator at ``sqrt(1e-5) ~ 3e-3``
    instead of ``1e-5``, which damps the small late gradients: A2C on CartPole-v1
    with rl-zoo's settings reached 67 instead of 500 after 100k steps. (The
    opposite of stable-baselines3's ``RMSpropTFLike``.) No momentum, not centered.
    """

    def __init__(self, learning_rate=7e-4, rho=0.99, epsilon=1e-5, name="rmsprop_torch_like", **kwargs):
        super().__init__(learning_rate=learning_rate, rho=rho, epsilon=epsilon, name=name, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        lr = keras.ops.cast(learning_rate, variable.dtype)
        gradient = keras.ops.cast(gradient, variable.dtype)
        velocity = self._velocities[self._get_variable_index(variable)]
        self.assign(velocity, self.rho * velocity + (1.0 - self.rho) * keras.ops.square(gradient))
        self.assign_sub(variable, lr * gradient / (keras.ops.sqrt(velocity) + self.epsilon))


@keras.saving.register_keras_serializable(package="agents")
class RMSpropTFLike(keras.optimizers.RMSprop):
    """RMSprop as TensorFlow 1 had it (stable-baselines3's ``RMSpropTFLike``, which rl-zoo's Atari A2C uses):
    epsilon inside the square root, as Keras's, and the running mean of squares starting at 1, not 0.

    Starting at 1 keeps the first steps ~``lr * g`` instead of ~``lr * g / |g| / sqrt(1 - rho)``: the 10x
    jump of a zero start with ``rho=0.99``, which the original A2C's Atari settings were tuned without.
    No momentum, not centered.
    """

    def __init__(self, learning_rate=7e-4, rho=0.99, epsilon=1e-5, name="rmsprop_tf_like", **kwargs):
        super().__init__(learning_rate=learning_rate, rho=rho, epsilon=epsilon, name=name, **kwargs)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        for velocity in self._velocities:
            velocity.assign(keras.ops.ones_like(velocity))
