"""Reference recipes of registered models, run end to end: ``train_recipe(name)``.

``train_recipe`` loads the recipe's data (or any ``zoo.data.load`` source), builds the model to fit it,
compiles it with the recipe (:mod:`zoo.core.recipe`) and trains it with Keras
callbacks, or with :func:`zoo.train.fit` under a tf.distribute strategy.
"""

from __future__ import annotations

import dataclasses
import time

import keras

from zoo.core.checks import check_int, check_path, check_str, check_type
from zoo.core.recipe import compile_from_recipe, scheduled_learning_rate
from zoo.core.seeding import seed_everything
from zoo.training.loop import fit, metric_for

__all__ = ["TrainResult", "train_recipe", "recipe_callbacks", "evaluate_arrays"]

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
    """Train registered model ``name`` with its reference recipe on its data, or on ``data``.

    ``data``: any ``zoo.data.load`` source (``"digits"``, a folder of images, ``.npz``,
    ``.csv``, ``mnist``, ``tfds:NAME``), loaded at the recipe's image size and channels;
    a streamed source trains from its ``tf.data`` pipeline.

    With ``strategy`` (a name from ``zoo.distribute.KINDS`` or a
    ``tf.distribute.Strategy``) the model is trained by :func:`fit` under that
    strategy (``batch_size`` is the global batch) and tested on the local host;
    without it, by ``model.fit``.
    """
    import zoo
    from zoo import data as zdata
    from zoo.training import distribute as zdist

    check_str("name", name, "train_recipe")
    check_path("data", data, "train_recipe", allow_none=True, accepted="a zoo.data.load source")
    if batch_size != "full":
        check_int("batch_size", batch_size, minimum=1, allow_none=True, owner="train_recipe")
    check_type("callbacks", callbacks, (list, tuple), "a list of keras.callbacks.Callback objects", "train_recipe")
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

    seed_everything(seed)  # Python, NumPy, TensorFlow, Keras; op determinism
    splits = zdata.load(data, seed=seed, **_data_kwargs(recipe, data))
    kwargs = dict(input_shape=splits.input_shape, num_classes=splits.num_classes)
    kwargs.update(recipe.get("model_kwargs", {}))
    kwargs.update(model_overrides)
    kwargs = {k: v for k, v in kwargs.items() if k in meta["arguments"]}
    if batch_size == "full":
        batch_size = len(splits.labels("train"))
    total_steps = epochs * -(-len(splits.labels("train")) // batch_size)
    callbacks = [*callbacks, *recipe_callbacks(recipe, epochs)]
    if splits.streamed:  # a folder, tfds: batches from its tf.data pipeline (under a strategy, test as arrays)
        train, val = (splits.dataset(s, batch_size=batch_size, seed=seed) for s in ("train", "val"))
    else:
        (x, y), val = splits.train, splits.val
    if strat is not None:
        start = time.perf_counter()
        history = fit(
            lambda: _apply_bn_momentum(zoo.get(name, **kwargs), recipe), train if splits.streamed else (x, y),
            validation_data=val, epochs=epochs,
            batch_size=batch_size, seed=seed, optimizer=recipe.get("optimizer", "adam"),
            learning_rate=scheduled_learning_rate(recipe.get("learning_rate", 1e-3), recipe.get("schedule", "constant"),
                                                  total_steps), loss=recipe.get("loss"),
            metrics=list(recipe.get("metrics", [])), callbacks=list(callbacks), strategy=strat, verbose=verbose,
        )
        model = history.model
        test = evaluate_arrays(model, *splits.arrays("test"), recipe.get("loss"), recipe.get("metrics", []))
        return TrainResult(model, history, test, time.perf_counter() - start, data)
    model = _apply_bn_momentum(zoo.get(name, **kwargs), recipe)
    compile_from_recipe(model, recipe, total_steps=total_steps)

    start = time.perf_counter()
    if splits.streamed:
        history = model.fit(train, validation_data=val, epochs=epochs, callbacks=list(callbacks), verbose=verbose,
                            shuffle=False)  # the pipeline shuffles
        test = model.evaluate(splits.dataset("test", batch_size=batch_size), verbose=0, return_dict=True)
    else:
        history = model.fit(
            x, y, validation_data=val, epochs=epochs, batch_size=batch_size,
            callbacks=list(callbacks), verbose=verbose,
        )
        test = model.evaluate(*splits.test, verbose=0, return_dict=True)
    return TrainResult(model, history, test, time.perf_counter() - start, data)


def recipe_callbacks(recipe, epochs) -> list:
    """The callbacks a recipe asks for: ``restore_best`` ends on the best validation epoch's weights
    (by ``val_loss``, or the validation metric it names, e.g. ``"val_accuracy"``).

    A short run on small data ends wherever its last large step landed; the best of its
    epochs on the validation split is the figure that holds from seed to seed.
    """
    if not recipe.get("restore_best"):
        return []
    monitor = recipe["restore_best"] if isinstance(recipe["restore_best"], str) else "val_loss"
    return [keras.callbacks.EarlyStopping(monitor=monitor, patience=epochs + 1, restore_best_weights=True)]


def _data_kwargs(recipe, data) -> dict:
    """How to load ``data``: the recipe's ``data_kwargs`` for its own data; for another source, only
    the shape it sets (``image_size``, ``channels``, ``flat``: the model trains at the recipe's input shape)."""
    kwargs = dict(recipe.get("data_kwargs", {}))
    if data == recipe.get("data"):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in ("image_size", "channels", "flat")}


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
        metric = metric_for(identifier, tuple(np.shape(y)), tuple(preds.shape))
        metric.update_state(y, preds)
        logs[metric.name] = float(metric.result())
    return logs


# ---------------------------------------------------------------------------
# fit(): a training loop that works under every tf.distribute strategy
# ---------------------------------------------------------------------------
