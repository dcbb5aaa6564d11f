"""Optimizers Keras lacks: ``Rprop`` (iRprop-) and gradient ascent (``maximize``).

``Rprop`` (Riedmiller & Braun 1993; the iRprop- variant of Igel & Huesken 2000,
as in PyTorch's ``torch.optim.Rprop``) ignores the gradient's size and keeps one
step size per weight: when the gradient keeps its sign the step grows by
``etas[1]``, when it flips the step shrinks by ``etas[0]`` and that update is
skipped (the remembered gradient is zeroed). Steps stay within ``step_sizes``.
It is meant for full-batch training (``batch_size="full"``); with small
mini-batches the noisy signs make it wander.

``maximize(optimizer)`` wraps any Keras optimizer so that it *ascends* the
objective it is given (it applies the negated gradients): ``model.fit`` then
maximises the compiled loss, and ``optimizer.apply(grads, vars)`` in a custom
loop climbs the objective (activation maximisation: ``zoo.visualize``).
Both work in ``model.fit`` and under ``tf.distribute`` strategies, and both
save and load with the model (registered serializables).
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

from zoo.core.checks import check_int, fail

__all__ = ["Rprop", "Maximize", "maximize", "rprop_reference"]


def _optimizer(value, arg, owner):
    """``keras.optimizers.get(value)`` with errors naming ``arg``: a TypeError for a wrong type, a ValueError for a name."""
    accepted = "a keras.optimizers.Optimizer or a name such as 'adam' or 'sgd'"
    if not isinstance(value, (str, dict, keras.optimizers.Optimizer)):
        fail(arg, value, accepted, owner, error=TypeError)
    try:
        return keras.optimizers.get(value)
    except ValueError as err:
        raise ValueError(f"{owner}: invalid {arg}={value!r}; expected {accepted}") from err


def _positive(name, value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0


@keras.saving.register_keras_serializable(package="zoo")
class Rprop(keras.optimizers.Optimizer):
    """Resilient backpropagation, iRprop-: per-weight step sizes driven by gradient signs.

    Args:
        learning_rate: the initial step size of every weight (PyTorch's ``lr``).
        etas: ``(eta_minus, eta_plus)`` with ``0 < eta_minus < 1 < eta_plus``:
            the factors that shrink a step on a sign flip and grow it otherwise.
        step_sizes: ``(min_step, max_step)``, ``0 < min_step <= max_step``.
        **kwargs: the base Keras optimizer arguments (``weight_decay``, ``clipnorm``, ...).
    """

    def __init__(self, learning_rate=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0), name="rprop", **kwargs):
        if not callable(learning_rate) and not _positive("learning_rate", learning_rate):
            raise ValueError(f"Rprop: invalid learning_rate={learning_rate!r}; expected a positive initial step size")
        etas = tuple(etas) if isinstance(etas, (tuple, list)) else etas
        if not (isinstance(etas, tuple) and len(etas) == 2 and all(_positive("etas", e) for e in etas)
                and etas[0] < 1 < etas[1]):
            raise ValueError(f"Rprop: invalid etas={etas!r}; expected (eta_minus, eta_plus) with 0 < eta_minus < 1 < eta_plus")
        steps = tuple(step_sizes) if isinstance(step_sizes, (tuple, list)) else step_sizes
        if not (isinstance(steps, tuple) and len(steps) == 2 and all(_positive("step_sizes", s) for s in steps)
                and steps[0] <= steps[1]):
            raise ValueError(
                f"Rprop: invalid step_sizes={step_sizes!r}; expected (min_step, max_step) with 0 < min_step <= max_step"
            )
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.etas = tuple(float(e) for e in etas)
        self.step_sizes = tuple(float(s) for s in steps)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # A step of 0 means "not started": the first update uses the learning rate.
        self._steps = [self.add_variable_from_reference(v, "step") for v in var_list]
        self._prev_grads = [self.add_variable_from_reference(v, "prev_grad") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        step_var, prev_var = self._steps[index], self._prev_grads[index]
        g = ops.cast(gradient, variable.dtype)
        lr = ops.cast(learning_rate, variable.dtype)
        eta_minus, eta_plus = self.etas
        min_step, max_step = self.step_sizes
        step = ops.where(ops.equal(step_var, 0), lr, step_var)
        sign = ops.sign(g * prev_var)
        step = ops.where(
            sign > 0,
            ops.minimum(step * eta_plus, max_step),
            ops.where(sign < 0, ops.maximum(step * eta_minus, min_step), step),
        )
        g = ops.where(sign < 0, ops.zeros_like(g), g)
        self.assign(step_var, step)
        self.assign(prev_var, g)
        self.assign_sub(variable, ops.sign(g) * step)

    def get_config(self):
        return {**super().get_config(), "etas": self.etas, "step_sizes": self.step_sizes}


def rprop_reference(grad_fn, w, steps, learning_rate=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0)):
    """NumPy iRprop- (the textbook loop), for tests and teaching: ``w`` after ``steps`` updates.

    ``grad_fn(w) -> gradient`` works on a list of arrays.
    """
    import numpy as np

    if not callable(grad_fn):
        fail("grad_fn", grad_fn, "a callable grad_fn(w) -> gradients", "rprop_reference", error=TypeError)
    check_int("steps", steps, minimum=0, owner="rprop_reference")
    w = [np.array(a, dtype="float64") for a in w]
    step = [np.full_like(a, learning_rate) for a in w]
    prev = [np.zeros_like(a) for a in w]
    for _ in range(steps):
        grads = grad_fn(w)
        for i, g in enumerate(grads):
            g = np.array(g, dtype="float64")
            prod = g * prev[i]
            step[i] = np.where(prod > 0, np.minimum(step[i] * etas[1], step_sizes[1]),
                               np.where(prod < 0, np.maximum(step[i] * etas[0], step_sizes[0]), step[i]))
            g = np.where(prod < 0, 0.0, g)
            w[i] = w[i] - np.sign(g) * step[i]
            prev[i] = g
    return w


@keras.saving.register_keras_serializable(package="zoo")
class Maximize(keras.optimizers.Optimizer):
    """Gradient *ascent* with any inner optimizer: it applies the negated gradients.

    ``model.compile(optimizer=Maximize(keras.optimizers.Adam(1e-2)), loss=objective)``
    makes ``fit`` increase ``objective``. Learning rate, iterations and state are
    the inner optimizer's (as in Keras's ``LossScaleOptimizer``).
    """

    def __init__(self, inner_optimizer, name=None, **kwargs):
        if kwargs:
            raise ValueError(
                f"Maximize: unsupported argument(s) {sorted(kwargs)}; set them on the inner optimizer"
            )
        inner = _optimizer(inner_optimizer, "inner_optimizer", "Maximize")
        if isinstance(inner, Maximize):
            raise ValueError("Maximize: invalid inner_optimizer=Maximize(...); ascending twice descends")
        super().__init__(learning_rate=0.0, name=name or f"maximize_{inner.name}")
        self.inner_optimizer = inner

    def build(self, var_list):
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    def apply(self, grads, trainable_variables=None):
        if not self.built and trainable_variables is not None:
            self.build(list(trainable_variables))
        negated = [None if g is None else ops.negative(g) for g in grads]
        self.inner_optimizer.apply(negated, trainable_variables)

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        negated = [None if g is None else ops.negative(g) for g in grads]
        n = len(self._variables)
        new_vars, new_inner = self.inner_optimizer.stateless_apply(optimizer_variables[n:], negated,
                                                                   trainable_variables)
        return new_vars, list(optimizer_variables[:n]) + list(new_inner)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if hasattr(self, "inner_optimizer"):
            self.inner_optimizer.learning_rate = value

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        return self.inner_optimizer.scale_loss(loss)

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        return {
            "name": self.name,
            "inner_optimizer": keras.saving.serialize_keras_object(self.inner_optimizer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = keras.saving.deserialize_keras_object(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)


def maximize(optimizer="adam"):
    """An optimizer that ascends its objective: ``optimizer`` (an instance or a Keras name) reversed."""
    return Maximize(_optimizer(optimizer, "optimizer", "maximize"))
