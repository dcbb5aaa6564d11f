"""Training input for :func:`zoo.train.fit`: global batches at any (epoch, step), for resuming."""

from __future__ import annotations


def as_dataset(data, batch_size, shuffle, seed, arg):
    """``data`` as a batched dataset and its static global batch size (None when unknown)."""
    import tensorflow as tf

    from zoo.data import pipeline as zdata

    if isinstance(data, tf.data.Dataset):
        try:
            from tensorflow.python.data.experimental.ops.distribute import compute_batch_size

            found = int(compute_batch_size(data))
        except Exception:  # noqa: BLE001 - an unusual pipeline: no static batch size to check
            found = -1
        return data, (found if found > 0 else None)
    if isinstance(data, tuple) and len(data) == 2:
        x, y = data
        if len(x) != len(y):
            raise ValueError(f"invalid {arg}: x has {len(x)} rows but y has {len(y)}; expected equal lengths")
        if batch_size == "full":
            batch_size = len(x)
        return zdata.as_dataset(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed), batch_size
    check_data(data, arg)


def check_data(data, arg):
    """A ``ValueError`` for training data that is neither a ``tf.data.Dataset`` nor an ``(x, y)`` pair."""
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset) or (isinstance(data, tuple) and len(data) == 2):
        return
    raise ValueError(
        f"invalid {arg} of type {type(data).__name__}; expected a tf.data.Dataset of (x, y) batches "
        "or an (x, y) tuple of arrays"
    )


class TrainInput:
    """Training batches (of the global batch size), positioned at any (epoch, step) for resuming.

    Arrays are shuffled per epoch with a stateless permutation of ``(seed, epoch)``:
    the order is the same under every strategy and after a restart, and a
    resumed run starts its pipeline at the checkpoint's epoch without replaying
    the data before it. A dataset is iterated once per epoch (as ``model.fit``
    does) or, with ``steps_per_epoch``, as one repeated stream; a resumed run
    replays its iterator creations and skips the batches already done, which
    reproduces the order of a seeded shuffle.
    """

    def __init__(self, data, batch_size, shuffle, seed, steps_per_epoch, drop_remainder=False):
        import tensorflow as tf

        self.arrays = isinstance(data, tuple)
        ds, self.batch = as_dataset(data, batch_size, shuffle, seed, "train_data")
        if self.arrays:
            self.x, self.y = data
            self.shuffle, self.seed, self.drop_remainder = shuffle, seed, drop_remainder
            self.per_pass = len(self.x) // self.batch if drop_remainder else -(-len(self.x) // self.batch)
            if self.per_pass < 1:
                raise ValueError(f"invalid batch_size={self.batch}: larger than the {len(self.x)} training examples")
            self.steps, self.stream = steps_per_epoch or self.per_pass, True
            self.spec = self._array_stream(0).element_spec
            return
        self.ds, self.spec = ds, ds.element_spec
        card = int(ds.cardinality())
        if steps_per_epoch is None:
            if card == tf.data.INFINITE_CARDINALITY:
                raise ValueError("steps_per_epoch=None with an infinite train_data; pass steps_per_epoch=")
            self.steps, self.stream = (card if card >= 0 else None), False
        else:
            self.steps, self.stream = steps_per_epoch, True

    def _array_stream(self, first_pass):
        import tensorflow as tf

        x, y = tf.constant(self.x), tf.constant(self.y)
        n, batch, seed, shuffle, drop = len(self.x), self.batch, self.seed, self.shuffle, self.drop_remainder

        def one_pass(p):
            if shuffle:
                key = tf.stack([tf.constant(seed, tf.int64), p])
                idx = tf.argsort(tf.random.stateless_uniform([n], seed=key))
            else:
                idx = tf.range(n)
            return tf.data.Dataset.from_tensor_slices(idx).batch(batch, drop_remainder=drop)

        passes = tf.data.Dataset.range(first_pass, 2**62)
        ds = passes.flat_map(one_pass).map(lambda i: (tf.gather(x, i), tf.gather(y, i)))
        return ds.prefetch(tf.data.AUTOTUNE)

    def epochs(self, strat, first_epoch, first_step, epochs):
        """Yield ``(epoch, first step, distributed iterator)`` for the epochs left to run."""
        if self.arrays:
            done = first_epoch * self.steps + first_step  # batches already trained on
            ds = self._array_stream(done // self.per_pass).skip(done % self.per_pass)
            it = iter(strat.experimental_distribute_dataset(data_sharded(ds)))
            for epoch in range(first_epoch, epochs):
                yield epoch, (first_step if epoch == first_epoch else 0), it
        elif self.stream:
            it = iter(strat.experimental_distribute_dataset(data_sharded(self.ds.repeat())))
            skip_batches(it, first_epoch * self.steps + first_step)
            for epoch in range(first_epoch, epochs):
                yield epoch, (first_step if epoch == first_epoch else 0), it
        else:
            dist = strat.experimental_distribute_dataset(data_sharded(self.ds))
            for _ in range(first_epoch):  # replay the reshuffles of the epochs already done
                iter(dist)
            for epoch in range(first_epoch, epochs):
                it = iter(dist)
                first = first_step if epoch == first_epoch else 0
                skip_batches(it, first)
                yield epoch, first, it


def data_sharded(ds):
    import tensorflow as tf

    policy = tf.data.experimental.AutoShardPolicy
    if ds.options().experimental_distribute.auto_shard_policy != policy.AUTO:
        return ds
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = policy.DATA
    return ds.with_options(options)


def skip_batches(iterator, n):
    for _ in range(n):
        next(iterator)

