"""The parameter updates every agent shares: clipped gradient steps, Polyak averaging, linear schedules.

Small functions with their own unit tests (``tests/agents/test_math.py``): an
algorithm file calls them instead of writing its own.
"""

from __future__ import annotations

import tensorflow as tf

from zoo.core.checks import check_number

__all__ = ["apply_gradients", "clip_gradients", "polyak_update", "linear_schedule"]


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
    if fraction <= 0:
        return float(end)
    return float(start + (end - start) * min(max(progress, 0.0) / fraction, 1.0))
