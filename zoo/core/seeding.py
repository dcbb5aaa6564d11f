"""Same seed, same figures: what every seeded training path calls first.

:func:`seed_everything` seeds Python, NumPy, TensorFlow and Keras' global seed
generator (``keras.utils.set_random_seed``) and turns on TensorFlow's op
determinism, which also makes ``tf.data`` ordered and runs a map with random ops
(augmentation) serially. Set ``DLZOO_DETERMINISTIC=0`` to trade that for speed.
:func:`fresh_state` runs a block as a fresh process would (a cleared Keras
session, default dtype policy, seeds set) and puts the policy back afterwards:
the reproduce suite runs each entry in one, so no entry sees what ran before it.
"""

from __future__ import annotations

import contextlib
import os

from zoo.core.checks import check_int

__all__ = ["deterministic", "seed_everything", "fresh_state"]


def deterministic() -> bool:
    """False only when ``DLZOO_DETERMINISTIC`` is ``0``: then seeds are set but op determinism is not."""
    return os.environ.get("DLZOO_DETERMINISTIC", "1") != "0"


def seed_everything(seed: int) -> int:
    """Seed every generator a training run draws from; with :func:`deterministic`, enable op determinism."""
    import keras
    import tensorflow as tf

    check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    keras.utils.set_random_seed(int(seed))
    if deterministic():
        tf.config.experimental.enable_op_determinism()
    return int(seed)


@contextlib.contextmanager
def fresh_state(seed: int = 0):
    """Run the block in a cleared Keras session with the float32 policy and every seed set to ``seed``;
    the session is cleared and the caller's dtype policy restored on the way out."""
    import keras

    policy = keras.config.dtype_policy()
    keras.backend.clear_session()
    keras.config.set_dtype_policy("float32")
    seed_everything(seed)
    try:
        yield
    finally:
        keras.backend.clear_session()
        keras.config.set_dtype_policy(policy)
