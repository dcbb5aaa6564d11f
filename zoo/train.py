"""Training: ``fit`` under any tf.distribute strategy, and reference recipes of registered models.

``fit(model, data, strategy=..., epochs=...)`` is ``model.fit`` through
``strategy.run`` (see its docstring); it works under one device, mirrored,
multi-worker and TPU strategies, checkpoints and resumes.

A recipe is data in the registry (``zoo.info(name)["recipe"]``)::

    dict(data="digits", data_kwargs=dict(flat=True), optimizer="adam",
         learning_rate=1e-3, loss="sparse_categorical_crossentropy",
         metrics=["accuracy"], epochs=40, batch_size=32, model_kwargs={})

``train_recipe`` loads the built-in data, builds the model to fit it, compiles
it with the recipe and trains it with Keras callbacks.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time

import keras

__all__ = ["make_optimizer", "compile_from_recipe", "train_recipe", "TrainResult", "fit", "evaluate_arrays"]

_OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "momentum": lambda learning_rate: keras.optimizers.SGD(learning_rate, momentum=0.9),
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
}


def make_optimizer(name="adam", learning_rate=1e-3):
    """An optimizer by name (``sgd``, ``momentum``, ``adam``, ``adamw``, ``rmsprop``) or as given."""
    if not isinstance(name, str):
        return name
    if name not in _OPTIMIZERS:
        raise ValueError(f"invalid optimizer={name!r}; expected one of {sorted(_OPTIMIZERS)} or an instance")
    return _OPTIMIZERS[name](learning_rate=learning_rate)


SCHEDULES = ("constant", "cosine")


def scheduled_learning_rate(learning_rate, schedule="constant", total_steps=None):
    """``learning_rate`` as given (``"constant"``) or decayed to 0 over ``total_steps`` by a half cosine.

    Cosine decay (Loshchilov & Hutter 2017, without restarts) ends a short run on small
    steps, so its final weights do not depend on where the last large step landed.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"invalid schedule={schedule!r}; expected one of {list(SCHEDULES)}")
    if schedule == "constant":
        return learning_rate
    if not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"invalid total_steps={total_steps!r} for schedule='cosine'; expected a positive integer")
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)


def compile_from_recipe(model, recipe: dict, name: str | None = None, **overrides):
    """Compile ``model`` with the recipe's optimizer, loss and metrics (``overrides`` win)."""
    recipe = {**recipe, **overrides}
    loss = recipe.get("loss")
    if isinstance(loss, dict):  # a Keras loss config, e.g. {"class_name": ..., "config": {"from_logits": True}}
        loss = keras.losses.get(loss)
    model.compile(
        optimizer=make_optimizer(recipe.get("optimizer", "adam"), recipe.get("learning_rate", 1e-3)),
        loss=loss,
        metrics=list(recipe.get("metrics", [])),
    )
    return model


@dataclasses.dataclass
class TrainResult:
    """What ``train_recipe`` returns: the trained model, its history and test figures."""

    model: keras.Model
    history: keras.callbacks.History
    test: dict
    seconds: float
    data: str


def train_recipe(
    name: str,
    data: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    callbacks=(),
    verbose: int = 0,
    seed: int = 0,
    strategy=None,
    **model_overrides,
) -> TrainResult:
    """Train registered model ``name`` with its reference recipe on built-in data.

    With ``strategy`` (a name from ``zoo.distribute.KINDS`` or a
    ``tf.distribute.Strategy``) the model is trained by :func:`fit` under that
    strategy (``batch_size`` is the global batch) and tested on the local host;
    without it, by ``model.fit``.
    """
    import zoo
    from zoo import data as zdata
    from zoo import distribute as zdist

    strat = zdist.strategy(strategy) if strategy is not None else None  # first: multi-worker needs that

    meta = zoo.info(name)
    recipe = dict(meta["recipe"] or {})
    if not recipe:
        raise ValueError(f"model {name!r} has no reference recipe; pass data and train it with model.fit")
    data = data or recipe["data"]
    epochs = recipe.get("epochs", 10) if epochs is None else epochs
    batch_size = recipe.get("batch_size", 32) if batch_size is None else batch_size
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"invalid epochs={epochs!r}; expected a positive integer")

    keras.utils.set_random_seed(seed)
    splits = zdata.load(data, seed=seed, **recipe.get("data_kwargs", {}))
    kwargs = dict(input_shape=splits.input_shape, num_classes=splits.num_classes)
    kwargs.update(recipe.get("model_kwargs", {}))
    kwargs.update(model_overrides)
    kwargs = {k: v for k, v in kwargs.items() if k in meta["arguments"]}
    (x, y), (xv, yv), (xt, yt) = splits.train, splits.val, splits.test
    if batch_size == "full":
        batch_size = len(x)
    if strat is not None:
        start = time.perf_counter()
        history = fit(
            lambda: _apply_bn_momentum(zoo.get(name, **kwargs), recipe), (x, y), validation_data=(xv, yv), epochs=epochs,
            batch_size=batch_size, seed=seed, optimizer=recipe.get("optimizer", "adam"),
            learning_rate=recipe.get("learning_rate", 1e-3), loss=recipe.get("loss"),
            metrics=list(recipe.get("metrics", [])), callbacks=list(callbacks), strategy=strat, verbose=verbose,
        )
        model = history.model
        test = evaluate_arrays(model, xt, yt, recipe.get("loss"), recipe.get("metrics", []))
        return TrainResult(model, history, test, time.perf_counter() - start, data)
    model = _apply_bn_momentum(zoo.get(name, **kwargs), recipe)
    compile_from_recipe(model, recipe)

    start = time.perf_counter()
    history = model.fit(
        x, y, validation_data=(xv, yv), epochs=epochs, batch_size=batch_size,
        callbacks=list(callbacks), verbose=verbose,
    )
    test = model.evaluate(xt, yt, verbose=0, return_dict=True)
    return TrainResult(model, history, test, time.perf_counter() - start, data)


def _apply_bn_momentum(model, recipe):
    """Set every BatchNormalization's momentum to the recipe's ``bn_momentum`` (if it has one).

    ImageNet models keep keras.applications' 0.99/0.999, whose moving statistics need
    thousands of steps to settle; a short recipe on small data trains with 0.9
    (torchvision's 0.1) without changing the architecture or its weights.
    """
    momentum = recipe.get("bn_momentum")
    if momentum is not None:
        for layer in model._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = momentum
    return model


def evaluate_arrays(model, x, y, loss, metrics=(), batch_size: int = 256) -> dict:
    """Loss and metrics of ``model`` on arrays, computed eagerly on this host (no strategy involved).

    Works for a model trained by :func:`fit` under any strategy, where
    ``model.evaluate`` would go through the strategy (and fail under
    ``MultiWorkerMirroredStrategy``); every worker gets the same figures.
    """
    import numpy as np

    preds = np.concatenate([np.asarray(model(x[i:i + batch_size], training=False), dtype="float32")
                            for i in range(0, len(x), batch_size)])
    loss_fn = keras.losses.get(loss) if isinstance(loss, (str, dict)) else loss  # dict: a Keras loss config
    regularisation = sum(float(v) for v in model.losses)  # in the loss, as model.evaluate has it
    logs = {"loss": float(np.mean(np.asarray(loss_fn(y, preds)))) + regularisation}
    for identifier in metrics:
        metric = _metric(identifier, tuple(np.shape(y)), tuple(preds.shape))
        metric.update_state(y, preds)
        logs[metric.name] = float(metric.result())
    return logs


# ---------------------------------------------------------------------------
# fit(): a training loop that works under every tf.distribute strategy
# ---------------------------------------------------------------------------

MIXED_PRECISION = (None, "float32", "bfloat16", "float16")


def fit(
    model,
    train_data,
    validation_data=None,
    *,
    epochs: int = 1,
    optimizer="adam",
    learning_rate: float = 1e-3,
    loss=None,
    metrics=(),
    callbacks=(),
    strategy=None,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
    mixed_precision: str | None = None,
    jit_compile: bool | None = None,
    checkpoint_dir: str | None = None,
    checkpoint_every: int | None = None,
    keep_checkpoints: int = 2,
    verbose: int = 0,
) -> keras.callbacks.History:
    """Train ``model`` under a ``tf.distribute`` strategy; returns a Keras ``History``.

    What ``model.fit`` does, through tf.distribute's own machinery so that it
    also works under ``MultiWorkerMirroredStrategy`` (where Keras 3's
    ``model.fit`` fails, keras-team/keras#20585):

    - ``model``: a ``keras.Model`` or a zero-argument callable that builds one.
      A callable is called inside the strategy scope (and under the
      mixed-precision policy). A model whose variables were created outside the
      scope is cloned inside it and the trained weights are copied back into it
      at the end; callbacks see the working model. It is compiled with the
      optimizer, loss and metrics it is trained with (``model.optimizer`` is the
      one ``fit`` used, for callbacks such as ``ReduceLROnPlateau``).
    - ``train_data`` / ``validation_data``: a ``tf.data.Dataset`` of ``(x, y)``
      or ``(x, y, sample_weight)`` batches, whose batch is the *global* batch,
      or an ``(x, y)`` tuple of arrays batched by ``batch_size`` (shuffled with
      ``seed`` each epoch when ``shuffle``). Datasets are distributed with
      ``experimental_distribute_dataset``; when the dataset leaves the auto-shard
      policy at ``AUTO`` it is set to ``DATA`` (every worker reads the same
      pipeline and keeps its part of each global batch: in-memory and generated
      data have no files to shard, and the global batch order is then the same
      as on one device). Set ``FILE`` on the dataset's options for a file-based
      pipeline with at least one file per worker.
    - ``optimizer``: a name (with ``learning_rate``) or a Keras optimizer,
      rebuilt from its config inside the scope. ``loss`` and ``metrics`` take
      the same identifiers as ``model.compile`` (``"accuracy"`` picks the binary,
      sparse or categorical variant from the shapes); ``loss=None`` uses the
      model's compiled loss.
    - The loss of a step is the sum of per-example losses over the replica's
      batch divided by the *global* batch size (counted across replicas, so a
      short last batch is weighted exactly), plus the model's regularisation
      losses divided by the replica count; gradients are summed across
      replicas. On one device this is ``model.fit``'s loss and update, and the
      logged ``loss`` and metrics are per-example means over the epoch as there.
    - ``callbacks`` are ``keras.callbacks.Callback`` objects called as
      ``model.fit`` calls them, with the same log keys (``loss``, metrics,
      ``val_*``); ``model.stop_training`` is honoured.
    - ``mixed_precision``: ``"bfloat16"`` or ``"float16"`` builds the model under
      the ``mixed_*`` policy (float32 variables, low-precision compute; losses
      are computed in float32); ``"float16"`` wraps the optimizer in a
      ``LossScaleOptimizer`` (dynamic loss scaling).
    - ``jit_compile=True``: XLA-compiles the step. With one replica the whole
      step (forward, backward, optimizer update) is compiled, as Keras does;
      with several replicas only the per-replica forward and backward pass are,
      and the cross-replica all-reduce and the update run outside XLA, because
      XLA cannot compile the collectives of ``MirroredStrategy`` and
      ``MultiWorkerMirroredStrategy`` on every device type. On TPUs everything
      is compiled by XLA anyway.
    - Fault tolerance: with ``checkpoint_dir``, a ``tf.train.CheckpointManager``
      saves model, optimizer, epoch and step every ``checkpoint_every`` steps
      and at each epoch end (the chief writes to ``checkpoint_dir``, other
      workers to a temporary folder that is deleted; a checkpoint becomes
      visible only once complete). A later call with the same
      ``checkpoint_dir`` resumes from the last checkpoint, at its epoch and
      step, replaying the data order: with a deterministic pipeline (a seeded
      shuffle) the result equals an uninterrupted run. The logs of a resumed
      epoch cover the steps run after the restart.
    """
    import tensorflow as tf

    from zoo import distribute as zdist

    _check_int("epochs", epochs, low=1)
    if mixed_precision not in MIXED_PRECISION:
        raise ValueError(f"invalid mixed_precision={mixed_precision!r}; expected one of {list(MIXED_PRECISION)}")
    if mixed_precision == "float32":
        mixed_precision = None
    for arg, value in (("steps_per_epoch", steps_per_epoch), ("validation_steps", validation_steps),
                       ("checkpoint_every", checkpoint_every)):
        if value is not None:
            _check_int(arg, value, low=1)
    _check_int("keep_checkpoints", keep_checkpoints, low=1)
    if checkpoint_every is not None and checkpoint_dir is None:
        raise ValueError(f"checkpoint_every={checkpoint_every} needs checkpoint_dir= (where checkpoints go)")
    if jit_compile not in (None, True, False):
        raise ValueError(f"invalid jit_compile={jit_compile!r}; expected True, False or None")
    if loss is None:
        loss = getattr(model, "loss", None) if isinstance(model, keras.Model) else None
        if loss is None:
            raise ValueError("loss=None and the model is not compiled with a loss; pass loss= (e.g. 'mse')")
    metrics = [metrics] if isinstance(metrics, str) else list(metrics or [])

    strat = zdist.strategy(strategy)
    train = _TrainInput(train_data, batch_size, shuffle, seed, steps_per_epoch,
                        drop_remainder=isinstance(strat, tf.distribute.TPUStrategy))  # TPUs want static shapes
    zdist.check_global_batch(train.batch, strat, arg="batch_size" if train.arrays else "train_data batch size")
    dist_val = None
    if validation_data is not None:
        val_ds, val_batch = _as_dataset(validation_data, batch_size, False, seed, "validation_data")
        zdist.check_global_batch(val_batch, strat, arg="validation_data batch size")
        dist_val = strat.experimental_distribute_dataset(_data_sharded(val_ds))

    loop = _Loop(model, strat, optimizer, learning_rate, loss, metrics, mixed_precision, jit_compile, train.spec)
    net = loop.net
    ckpt = _Checkpointer(net, loop.optimizer, checkpoint_dir, keep_checkpoints, strat) if checkpoint_dir else None
    initial_epoch, initial_step = ckpt.restore() if ckpt else (0, 0)

    steps = train.steps
    cbs = keras.callbacks.CallbackList(
        list(callbacks), add_history=True, add_progbar=verbose != 0, model=net,
        verbose=verbose, epochs=epochs, steps=steps,
    )
    net.stop_training = False
    val_fn = loop.test_function(dist_val.element_spec) if dist_val is not None else None
    train_fn = None

    cbs.on_train_begin()
    logs = {}
    global_step = int(loop.optimizer.iterations.numpy())
    for epoch, first, it in train.epochs(strat, initial_epoch, initial_step, epochs):
        if train_fn is None:
            train_fn = loop.train_function(it.element_spec)
        loop.reset_metrics()
        cbs.on_epoch_begin(epoch)
        step = first
        while steps is None or step < steps:
            try:
                batch = next(it)
            except StopIteration:
                if steps is not None:
                    raise ValueError(
                        f"train_data ran out after {step} of steps_per_epoch={steps} steps in epoch {epoch}"
                    ) from None
                break
            cbs.on_train_batch_begin(step)
            batch_logs = train_fn(batch)
            step += 1
            global_step += 1
            cbs.on_train_batch_end(step - 1, batch_logs)
            if ckpt and checkpoint_every and global_step % checkpoint_every == 0:
                ckpt.save(epoch, step)
            if net.stop_training:
                break
        logs = loop.results()
        if dist_val is not None:
            logs.update({f"val_{k}": v for k, v in _evaluate(loop, val_fn, dist_val, validation_steps, cbs).items()})
        if ckpt:
            ckpt.save(epoch + 1, 0)
        cbs.on_epoch_end(epoch, logs)
        if net.stop_training:
            break
    cbs.on_train_end(logs)
    if ckpt:
        ckpt.close()
    if net is not model and isinstance(model, keras.Model):
        model.set_weights(net.get_weights())
    return net.history


def _check_int(arg, value, low):
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"invalid {arg}={value!r}; expected an integer >= {low}")


def _as_dataset(data, batch_size, shuffle, seed, arg):
    """``data`` as a batched dataset and its static global batch size (None when unknown)."""
    import tensorflow as tf

    from zoo import data as zdata

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
    raise ValueError(
        f"invalid {arg} of type {type(data).__name__}; expected a tf.data.Dataset of (x, y) batches "
        "or an (x, y) tuple of arrays"
    )


class _TrainInput:
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
        ds, self.batch = _as_dataset(data, batch_size, shuffle, seed, "train_data")
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
            it = iter(strat.experimental_distribute_dataset(_data_sharded(ds)))
            for epoch in range(first_epoch, epochs):
                yield epoch, (first_step if epoch == first_epoch else 0), it
        elif self.stream:
            it = iter(strat.experimental_distribute_dataset(_data_sharded(self.ds.repeat())))
            _skip(it, first_epoch * self.steps + first_step)
            for epoch in range(first_epoch, epochs):
                yield epoch, (first_step if epoch == first_epoch else 0), it
        else:
            dist = strat.experimental_distribute_dataset(_data_sharded(self.ds))
            for _ in range(first_epoch):  # replay the reshuffles of the epochs already done
                iter(dist)
            for epoch in range(first_epoch, epochs):
                it = iter(dist)
                first = first_step if epoch == first_epoch else 0
                _skip(it, first)
                yield epoch, first, it


def _data_sharded(ds):
    import tensorflow as tf

    policy = tf.data.experimental.AutoShardPolicy
    if ds.options().experimental_distribute.auto_shard_policy != policy.AUTO:
        return ds
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = policy.DATA
    return ds.with_options(options)


def _skip(iterator, n):
    for _ in range(n):
        next(iterator)


def _evaluate(loop, fn, dist_ds, steps, cbs):
    loop.reset_metrics()
    cbs.on_test_begin()
    for step, batch in enumerate(dist_ds):
        if steps is not None and step >= steps:
            break
        cbs.on_test_batch_begin(step)
        cbs.on_test_batch_end(step, fn(batch))
    logs = loop.results()
    cbs.on_test_end(logs)
    return logs


class _Loop:
    """Model, optimizer, loss, metrics and step functions, all built inside the strategy scope."""

    def __init__(self, model, strat, optimizer, learning_rate, loss, metrics, mixed_precision, jit_compile, spec):
        import tensorflow as tf

        self.strategy = strat
        self.jit_compile = bool(jit_compile)
        x_spec, y_spec = _xy_spec(spec)
        with strat.scope():
            previous = keras.config.dtype_policy()
            if mixed_precision:
                keras.config.set_dtype_policy(f"mixed_{mixed_precision}")
            try:
                self.net = _model_in_scope(model, strat, mixed_precision)
            finally:
                keras.config.set_dtype_policy(previous)
            if type(self.net).train_step is not keras.Model.train_step:
                raise ValueError(
                    f"model {self.net.name!r} ({type(self.net).__name__}) has its own train_step, which fit does "
                    "not run (fit's step is the supervised loss(y, model(x))); train it with model.fit"
                )
            self.optimizer = _optimizer_in_scope(optimizer, learning_rate, mixed_precision)
            self.optimizer.build(self.net.trainable_variables)
            self.loss_fn = keras.losses.get(loss) if isinstance(loss, (str, dict)) else loss
            pred_shape = tuple(self.net.compute_output_shape(tuple(x_spec.shape)))
            self.tracker = keras.metrics.Mean(name="loss")
            self.metrics = [_metric(m, tuple(y_spec.shape), pred_shape) for m in metrics]
            self.net.compile(optimizer=self.optimizer, loss=self.loss_fn, metrics=list(metrics))
        self._sum = tf.distribute.ReduceOp.SUM

    # -- per-replica pieces ------------------------------------------------
    def _forward(self, x, y, sw, training):
        import tensorflow as tf

        y_pred = self.net(x, training=training)
        if isinstance(self.loss_fn, keras.losses.Loss):
            values = self.loss_fn.call(y, tf.cast(y_pred, tf.float32))
        else:
            values = self.loss_fn(y, tf.cast(y_pred, tf.float32))
        values = tf.cast(values, tf.float32)
        if values.shape.rank and values.shape.rank > 1:
            values = tf.reduce_mean(values, axis=list(range(1, values.shape.rank)))
        if sw is not None:
            values = values * tf.cast(tf.reshape(sw, [-1]), tf.float32)
        reg = tf.add_n([tf.cast(v, tf.float32) for v in self.net.losses]) if self.net.losses else tf.constant(0.0)
        return y_pred, tf.reduce_sum(values), reg

    def _update_metrics(self, y, y_pred, sw, total, n_local, reg):
        import tensorflow as tf

        self.tracker.update_state(tf.math.divide_no_nan(total, n_local) + reg, sample_weight=n_local)
        for m in self.metrics:
            m.update_state(y, y_pred, sample_weight=sw)

    def _grads(self, x, y, sw, n_global):
        import tensorflow as tf

        replicas = self.strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            y_pred, total, reg = self._forward(x, y, sw, True)
            loss = total / n_global + reg / replicas
            scaled = self.optimizer.scale_loss(loss)
        return y_pred, total, reg, tape.gradient(scaled, self.net.trainable_variables)

    def _replica_train(self, batch):
        import tensorflow as tf

        x, y, sw = keras.utils.unpack_x_y_sample_weight(batch)
        n_local = tf.cast(tf.shape(tf.nest.flatten(x)[0])[0], tf.float32)
        n_global = tf.distribute.get_replica_context().all_reduce(self._sum, n_local)
        grads_fn = self._grads_xla if self._split_xla else self._grads
        y_pred, total, reg, grads = grads_fn(x, y, sw, n_global)
        self.optimizer.apply(grads, self.net.trainable_variables)
        self._update_metrics(y, y_pred, sw, total, n_local, reg)

    def _replica_test(self, batch):
        import tensorflow as tf

        x, y, sw = keras.utils.unpack_x_y_sample_weight(batch)
        n_local = tf.cast(tf.shape(tf.nest.flatten(x)[0])[0], tf.float32)
        y_pred, total, reg = self._forward(x, y, sw, False)
        self._update_metrics(y, y_pred, sw, total, n_local, reg)

    # -- distributed functions -------------------------------------------
    def _distributed(self, replica_fn, spec, jit_whole):
        import tensorflow as tf

        # autograph=False: the step has no tensor-dependent Python control flow, and autograph's
        # cache of converted bound methods broke the XLA path when many models were traced in one process.
        replica = tf.function(replica_fn, jit_compile=True, autograph=False) if jit_whole else replica_fn

        def step(batch):
            self.strategy.run(replica, args=(batch,))
            return self._results_tensors()

        return tf.function(step, input_signature=[spec], autograph=False)

    def train_function(self, spec):
        import tensorflow as tf

        one = self.strategy.num_replicas_in_sync == 1 and not _is_multi_worker(self.strategy)
        self._split_xla = self.jit_compile and not one
        if self._split_xla:
            self._grads_xla = tf.function(self._grads, jit_compile=True, autograph=False)
        return self._distributed(self._replica_train, spec, self.jit_compile and one)

    def test_function(self, spec):
        one = self.strategy.num_replicas_in_sync == 1 and not _is_multi_worker(self.strategy)
        return self._distributed(self._replica_test, spec, self.jit_compile and one)

    def _results_tensors(self):
        return {m.name: m.result() for m in [self.tracker, *self.metrics]}

    def reset_metrics(self):
        for m in [self.tracker, *self.metrics]:
            m.reset_state()

    def results(self) -> dict:
        return {m.name: float(m.result()) for m in [self.tracker, *self.metrics]}


def _is_multi_worker(strat) -> bool:
    return bool(getattr(strat.extended, "_in_multi_worker_mode", lambda: False)())


def _xy_spec(spec):
    if not isinstance(spec, tuple) or len(spec) not in (2, 3):
        raise ValueError(f"invalid train_data elements {spec!r}; expected (x, y) or (x, y, sample_weight) batches")
    return spec[0], spec[1]


def _metric(identifier, y_shape, pred_shape):
    """A metric object as ``model.compile`` resolves ``identifier`` (``accuracy`` by shapes)."""
    if str(identifier).lower() in ("accuracy", "acc"):
        binary = pred_shape[-1] == 1
        sparse = len(y_shape) < len(pred_shape) or (y_shape[-1] == 1 and pred_shape[-1] > 1)
        cls = (keras.metrics.BinaryAccuracy if binary else
               keras.metrics.SparseCategoricalAccuracy if sparse else keras.metrics.CategoricalAccuracy)
        return cls(name=str(identifier))
    obj = keras.metrics.get(identifier)
    if not isinstance(obj, keras.metrics.Metric):
        obj = keras.metrics.MeanMetricWrapper(obj, name=identifier if isinstance(identifier, str) else None)
    elif isinstance(identifier, str):
        obj.name = identifier
    return obj


def _model_in_scope(model, strat, mixed_precision):
    if isinstance(model, keras.Model):
        if _built_in_scope(model, strat) and _has_policy(model, mixed_precision):
            return model
        return _clone(model, mixed_precision)
    if callable(model):
        built = model()
        if not isinstance(built, keras.Model):
            raise ValueError(f"invalid model: the callable returned {type(built).__name__}; expected a keras.Model")
        return built
    raise ValueError(
        f"invalid model of type {type(model).__name__}; expected a keras.Model or a zero-argument callable "
        "that builds one (e.g. lambda: zoo.get('mlp'))"
    )


def _built_in_scope(model, strat) -> bool:
    import tensorflow as tf

    if not model.variables:
        return True  # not built yet: variables will be created in the scope
    if strat is tf.distribute.get_strategy() and not tf.distribute.has_strategy():
        return True
    return all(strat.extended.variable_created_in_scope(getattr(v, "value", v)) for v in model.variables)


def _has_policy(model, mixed_precision) -> bool:
    want = f"mixed_{mixed_precision}" if mixed_precision else "float32"
    return all(layer.dtype_policy.name == want for layer in model.layers if layer.weights)


def _clone(model, mixed_precision):
    def clone_layer(layer):
        config = layer.get_config()
        if mixed_precision and not isinstance(layer, keras.layers.InputLayer):
            config["dtype"] = f"mixed_{mixed_precision}"
        return layer.__class__.from_config(config)

    try:
        clone = keras.models.clone_model(model, clone_function=clone_layer)
    except Exception as err:  # noqa: BLE001 - subclassed models without a config
        raise ValueError(
            f"model {model.name!r} was built outside the strategy scope and cannot be cloned into it ({err}); "
            "pass a zero-argument callable that builds it instead"
        ) from err
    clone.set_weights(model.get_weights())
    return clone


def _optimizer_in_scope(optimizer, learning_rate, mixed_precision):
    if isinstance(optimizer, keras.optimizers.Optimizer):
        opt = optimizer.__class__.from_config(optimizer.get_config())
    elif isinstance(optimizer, str):
        opt = make_optimizer(optimizer, learning_rate)
    else:
        raise ValueError(
            f"invalid optimizer={optimizer!r}; expected one of {sorted(_OPTIMIZERS)} or a keras optimizer"
        )
    if mixed_precision == "float16" and not isinstance(opt, keras.optimizers.LossScaleOptimizer):
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt


class _Checkpointer:
    """Model, optimizer, epoch and step in a ``tf.train.CheckpointManager`` (the chief's is kept)."""

    def __init__(self, net, optimizer, directory, keep, strat):
        import tensorflow as tf

        from zoo import distribute as zdist

        self.directory = os.fspath(directory)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.checkpoint = tf.train.Checkpoint(model=net, optimizer=optimizer, epoch=self.epoch, step=self.step)
        self.chief = not _is_multi_worker(strat) or zdist.is_chief()
        self.write_dir = self.directory if self.chief else os.path.join(
            self.directory, ".workers", f"worker-{zdist.worker_index()}"
        )
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.write_dir, max_to_keep=keep if self.chief else 1)

    def restore(self):
        import tensorflow as tf

        latest = tf.train.latest_checkpoint(self.directory)
        if latest is None:
            return 0, 0
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        return int(self.epoch.numpy()), int(self.step.numpy())

    def save(self, epoch, step):
        self.epoch.assign(epoch)
        self.step.assign(step)
        self.manager.save()

    def close(self):
        if not self.chief:
            shutil.rmtree(self.write_dir, ignore_errors=True)
            try:
                os.rmdir(os.path.dirname(self.write_dir))  # .workers, once no worker uses it
            except OSError:
                pass
