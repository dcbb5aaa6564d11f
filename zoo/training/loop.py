"""``fit``: ``model.fit`` through ``strategy.run``, under every tf.distribute strategy.

``fit(model, data, strategy=..., epochs=...)`` works under one device, mirrored,
multi-worker and TPU strategies, checkpoints and resumes (see its docstring).
The input pipeline is :mod:`zoo.training.inputs`, checkpointing
:mod:`zoo.training.checkpoint`.
"""

from __future__ import annotations

import keras

from zoo.core.checks import check_bool, check_choice, check_int, check_number, fail
from zoo.core.recipe import OPTIMIZERS, make_optimizer
from zoo.core.seeding import seed_everything
from zoo.training.checkpoint import Checkpointer, is_multi_worker
from zoo.training.inputs import TrainInput, as_dataset, check_data, data_sharded

__all__ = ["MIXED_PRECISION", "fit", "metric_for"]

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
      ``seed`` each epoch when ``shuffle``; ``seed`` also seeds everything
      else, :func:`zoo.core.seeding.seed_everything`). Datasets are distributed with
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
      epoch cover the steps run after the restart. An epoch's ``on_epoch_end``
      callbacks run before its checkpoint is written, so state they keep on disk
      (``zoo.callbacks.Checkpoint``'s best weights) is never behind it.
    """
    import tensorflow as tf

    from zoo.training import distribute as zdist

    _check_model(model)
    check_data(train_data, "train_data")
    if validation_data is not None:
        check_data(validation_data, "validation_data")
    callbacks = _check_types(learning_rate, callbacks, shuffle, seed)
    mixed_precision, loss, metrics = _checked_arguments(
        model, epochs, mixed_precision, steps_per_epoch, validation_steps, checkpoint_dir, checkpoint_every,
        keep_checkpoints, jit_compile, loss, metrics,
    )
    strat = zdist.strategy(strategy)
    seed_everything(seed)  # the model a callable builds, dropout and the shuffles: the same on every run
    train = TrainInput(train_data, batch_size, shuffle, seed, steps_per_epoch,
                       drop_remainder=isinstance(strat, tf.distribute.TPUStrategy))  # TPUs want static shapes
    zdist.check_global_batch(train.batch, strat, arg="batch_size" if train.arrays else "train_data batch size")
    dist_val = None
    if validation_data is not None:
        val_ds, val_batch = as_dataset(validation_data, batch_size, False, seed, "validation_data")
        zdist.check_global_batch(val_batch, strat, arg="validation_data batch size")
        dist_val = strat.experimental_distribute_dataset(data_sharded(val_ds))

    loop = _Loop(model, strat, optimizer, learning_rate, loss, metrics, mixed_precision, jit_compile, train.spec)
    net = loop.net
    ckpt = Checkpointer(net, loop.optimizer, checkpoint_dir, keep_checkpoints, strat) if checkpoint_dir else None
    initial_epoch, initial_step = ckpt.restore() if ckpt else (0, 0)
    cbs = keras.callbacks.CallbackList(
        list(callbacks), add_history=True, add_progbar=verbose != 0, model=net,
        verbose=verbose, epochs=epochs, steps=train.steps,
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
        global_step = _train_epoch(net, train_fn, it, epoch, first, train.steps, global_step, cbs,
                                   ckpt if checkpoint_every else None, checkpoint_every)
        logs = loop.results()
        if dist_val is not None:
            logs.update({f"val_{k}": v for k, v in _evaluate(loop, val_fn, dist_val, validation_steps, cbs).items()})
        cbs.on_epoch_end(epoch, logs)  # first: what callbacks keep on disk is never behind the checkpoint
        if ckpt:
            ckpt.save(epoch + 1, 0)
        if net.stop_training:
            break
    cbs.on_train_end(logs)
    if ckpt:
        ckpt.close()
    if net is not model and isinstance(model, keras.Model):
        model.set_weights(net.get_weights())
    return net.history


def _checked_arguments(model, epochs, mixed_precision, steps_per_epoch, validation_steps, checkpoint_dir,
                       checkpoint_every, keep_checkpoints, jit_compile, loss, metrics):
    """Validate ``fit``'s arguments before anything is built; return mixed_precision, loss, metrics resolved."""
    check_int("epochs", epochs, minimum=1)
    check_choice("mixed_precision", mixed_precision, MIXED_PRECISION)
    for arg, value in (("steps_per_epoch", steps_per_epoch), ("validation_steps", validation_steps),
                       ("checkpoint_every", checkpoint_every)):
        check_int(arg, value, minimum=1, allow_none=True)
    check_int("keep_checkpoints", keep_checkpoints, minimum=1)
    if checkpoint_every is not None and checkpoint_dir is None:
        raise ValueError(f"checkpoint_every={checkpoint_every} needs checkpoint_dir= (where checkpoints go)")
    check_choice("jit_compile", jit_compile, (None, True, False))
    if loss is None:
        loss = getattr(model, "loss", None) if isinstance(model, keras.Model) else None
        if loss is None:
            raise ValueError("loss=None and the model is not compiled with a loss; pass loss= (e.g. 'mse')")
    if not (metrics is None or isinstance(metrics, (str, list, tuple)) or callable(metrics)):
        fail("metrics", metrics, "a metric name, a keras.metrics.Metric or a list of them", error=TypeError)
    metrics = [metrics] if isinstance(metrics, str) or callable(metrics) else list(metrics or [])
    return (None if mixed_precision == "float32" else mixed_precision), loss, metrics


def _check_types(learning_rate, callbacks, shuffle, seed) -> list:
    """The types of ``fit``'s plain arguments, before anything is built; returns the callbacks as a list."""
    if not callable(learning_rate):  # a number, or a LearningRateSchedule (callable)
        check_number("learning_rate", learning_rate, low=0, low_open=True)
    cbs = list(callbacks) if hasattr(callbacks, "__iter__") and not isinstance(callbacks, str) else None
    if cbs is None or not all(isinstance(c, keras.callbacks.Callback) for c in cbs):
        fail("callbacks", callbacks, "a list of keras.callbacks.Callback objects", error=TypeError)
    check_bool("shuffle", shuffle)
    check_int("seed", seed)
    return cbs


def _train_epoch(net, train_fn, it, epoch, step, steps, global_step, cbs, ckpt, checkpoint_every):
    """Run the training steps of one epoch from ``step``; return the global step count."""
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
        if ckpt and global_step % checkpoint_every == 0:
            ckpt.save(epoch, step)
        if net.stop_training:
            break
    return global_step


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
            self.metrics = [metric_for(m, tuple(y_spec.shape), pred_shape) for m in metrics]
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

        one = self.strategy.num_replicas_in_sync == 1 and not is_multi_worker(self.strategy)
        self._split_xla = self.jit_compile and not one
        if self._split_xla:
            self._grads_xla = tf.function(self._grads, jit_compile=True, autograph=False)
        return self._distributed(self._replica_train, spec, self.jit_compile and one)

    def test_function(self, spec):
        one = self.strategy.num_replicas_in_sync == 1 and not is_multi_worker(self.strategy)
        return self._distributed(self._replica_test, spec, self.jit_compile and one)

    def _results_tensors(self):
        return {m.name: m.result() for m in [self.tracker, *self.metrics]}

    def reset_metrics(self):
        for m in [self.tracker, *self.metrics]:
            m.reset_state()

    def results(self) -> dict:
        return {m.name: float(m.result()) for m in [self.tracker, *self.metrics]}




def _xy_spec(spec):
    if not isinstance(spec, tuple) or len(spec) not in (2, 3):
        raise ValueError(f"invalid train_data elements {spec!r}; expected (x, y) or (x, y, sample_weight) batches")
    return spec[0], spec[1]


def metric_for(identifier, y_shape, pred_shape):
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
    built = model()
    if not isinstance(built, keras.Model):
        raise ValueError(f"invalid model: the callable returned {type(built).__name__}; expected a keras.Model")
    return built


def _check_model(model):
    """A ``ValueError`` for a ``model`` that is neither a keras.Model nor a callable building one."""
    if not callable(model):  # a keras.Model is callable too
        raise ValueError(f"invalid model of type {type(model).__name__}; expected a keras.Model or a zero-argument "
                         "callable that builds one (e.g. lambda: zoo.get('mlp'))")


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
            f"invalid optimizer={optimizer!r}; expected one of {sorted(OPTIMIZERS)} or a keras optimizer"
        )
    if mixed_precision == "float16" and not isinstance(opt, keras.optimizers.LossScaleOptimizer):
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt

