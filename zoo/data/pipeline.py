"""``tf.data`` pipelines from arrays, and random augmentation as Keras preprocessing layers."""

from __future__ import annotations

from zoo.core.checks import check_bool, fail

__all__ = ["as_dataset", "batched", "augmentation"]


def augmentation(translate=0.1, rotate=0.0, zoom=0.0, flip=False, seed=None):
    """Random image augmentation as Keras preprocessing layers (a ``keras.Sequential``).

    ``translate``, ``zoom``: fractions of the image size; ``rotate``: a fraction of a
    full turn; ``flip``: random horizontal flips (not for digits). Empty pixels are
    filled with 0, the background of the built-in digits. Pass it as ``augment=`` to
    :func:`as_dataset`, ``zoo.transfer.fine_tune`` or a training loop; it is active
    only when called with ``training=True``.
    """
    import keras

    for arg, value in (("translate", translate), ("rotate", rotate), ("zoom", zoom)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
            raise ValueError(f"invalid {arg}={value!r}; expected a fraction in [0, 1)")
    check_bool("flip", flip)
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if translate:
        layers.append(keras.layers.RandomTranslation(translate, translate, fill_mode="constant", seed=seed))
    if rotate:
        layers.append(keras.layers.RandomRotation(rotate, fill_mode="constant", seed=seed))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode="constant", seed=seed))
    if not layers:
        raise ValueError("augmentation() with translate=0, rotate=0, zoom=0 and flip=False changes nothing; "
                         "pass at least one")
    return keras.Sequential(layers, name="augmentation")


def as_dataset(x, y=None, batch_size=32, shuffle=True, seed=0, repeat=False, drop_remainder=False, augment=None):
    """Arrays to a batched, shuffled, prefetched ``tf.data.Dataset``.

    ``batch_size`` is an integer or ``"full"`` (one batch of everything: batch
    gradient descent); ``1`` gives stochastic gradient descent. ``augment``: a
    callable (e.g. :func:`augmentation`) applied to each batch of ``x`` with
    ``training=True``, so every epoch sees new random variants.
    """
    import tensorflow as tf

    for arg, value in (("x", x), ("y", y)):
        if (value is not None or arg == "x") and (not hasattr(value, "__len__") or isinstance(value, (str, bytes))):
            fail(arg, value, "an array of samples (a NumPy array, a tensor or a list)", "as_dataset", error=TypeError)
    n = len(x)
    if batch_size == "full":
        batch_size = n
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return batched(ds, batch_size, repeat=repeat, drop_remainder=drop_remainder, augment=augment, labelled=y is not None)


def batched(ds, batch_size, repeat=False, drop_remainder=False, augment=None, labelled=True):
    """Batch an unbatched (shuffled) ``ds``, augment each batch with ``training=True``, prefetch."""
    import tensorflow as tf

    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"invalid batch_size={batch_size!r}; expected a positive integer or 'full'")
    if augment is not None and not callable(augment):
        raise ValueError(f"invalid augment={augment!r}; expected a callable such as zoo.data.augmentation()")
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)  # a parallel batch is slower on small images
    if augment is not None:
        if labelled:
            ds = ds.map(lambda xb, yb: (augment(xb, training=True), yb), num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=True)
        else:
            ds = ds.map(lambda xb: augment(xb, training=True), num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
