"""Reference recipes of registered models, run end to end: ``train_recipe(name)``.

``train_recipe`` loads the recipe's data (or any ``zoo.data.load`` source), builds the model to fit it,
compiles it with the recipe (:mod:`zoo.core.recipe`) and trains it with Keras
callbacks, or with :func:`zoo.train.fit` under a tf.distribute strategy.
"""

from __future__ import annotations

import dataclasses
import os
import time

import keras

from zoo.core.checks import check_choice, check_int, check_number, check_path, check_str, check_type, fail
from zoo.core.recipe import compile_from_recipe
from zoo.core.seeding import seed_everything
from zoo.training.loop import MIXED_PRECISION, fit, metric_for

__all__ = ["TrainResult", "train_recipe", "resolve_recipe", "RECIPE_OVERRIDES", "recipe_callbacks",
           "evaluate_arrays"]

@dataclasses.dataclass
class TrainResult:
    """What ``train_recipe`` returns: the trained model, its history and test figures."""

    model: keras.Model
    history: keras.callbacks.History
    test: dict
    seconds: float
    data: str


#: What ``train_recipe`` can set on top of a recipe (``python -m zoo train``'s flags), None: the recipe's.
RECIPE_OVERRIDES = ("optimizer", "learning_rate", "schedule", "warmup_epochs", "weight_decay", "label_smoothing",
                    "image_size", "augment")


def resolve_recipe(name: str, data=None, epochs=None, batch_size=None, **overrides) -> dict:
    """The recipe ``train_recipe(name, ...)`` runs: the registered one with ``overrides`` applied and checked.

    ``overrides``: any of :data:`RECIPE_OVERRIDES` (None keeps the recipe's value). The result
    has every key the run uses (``data``, ``data_kwargs``, ``epochs``, ``batch_size``,
    ``optimizer``, ``learning_rate``, ``schedule``, ``warmup_epochs``, ``weight_decay``,
    ``label_smoothing``, ``augment``), so it can be written down and read back.
    """
    import zoo
    from zoo.core.recipe import OPTIMIZERS, SCHEDULES

    unknown = sorted(set(overrides) - set(RECIPE_OVERRIDES))
    if unknown:
        raise ValueError(f"train_recipe: unknown argument(s) {unknown}; expected any of {list(RECIPE_OVERRIDES)}")
    check_str("name", name, "train_recipe")
    check_path("data", data, "train_recipe", allow_none=True, accepted="a zoo.data.load source")
    if batch_size != "full":
        check_int("batch_size", batch_size, minimum=1, allow_none=True, owner="train_recipe")
    check_int("epochs", epochs, minimum=1, allow_none=True, owner="train_recipe")
    meta = zoo.info(name)
    registered = dict(meta["recipe"] or {})
    if not registered:
        raise ValueError(f"model {name!r} has no reference recipe; pass data and train it with model.fit")
    recipe = dict(registered)
    recipe["data"] = data or registered["data"]
    recipe["data_kwargs"] = _data_kwargs(registered, recipe["data"])
    recipe["epochs"] = registered.get("epochs", 10) if epochs is None else epochs
    recipe["batch_size"] = registered.get("batch_size", 32) if batch_size is None else batch_size
    check_int("epochs", recipe["epochs"], minimum=1, owner="train_recipe")
    given = {k: v for k, v in overrides.items() if v is not None}
    if "optimizer" in given:
        check_choice("optimizer", given["optimizer"], sorted(OPTIMIZERS), "train_recipe")
    if "schedule" in given:
        check_choice("schedule", given["schedule"], SCHEDULES, "train_recipe")
    check_number("learning_rate", given.get("learning_rate"), low=0, low_open=True, owner="train_recipe",
                 allow_none=True)
    check_number("warmup_epochs", given.get("warmup_epochs"), low=0, high=recipe["epochs"], high_open=True,
                 owner="train_recipe", allow_none=True)
    check_number("weight_decay", given.get("weight_decay"), low=0, owner="train_recipe", allow_none=True)
    check_number("label_smoothing", given.get("label_smoothing"), low=0, high=1, high_open=True,
                 owner="train_recipe", allow_none=True)
    check_int("image_size", given.get("image_size"), minimum=1, owner="train_recipe", allow_none=True)
    if "image_size" in given:
        if recipe["data_kwargs"].get("flat"):
            fail("image_size", given["image_size"], f"None for {name!r}, which trains on flat vectors "
                 "(its recipe loads flat=True)", "train_recipe")
        recipe["data_kwargs"]["image_size"] = given.pop("image_size")
    augment = given.pop("augment", None)
    recipe["augment"] = _augment_kwargs(augment)
    recipe.update(given)
    recipe.setdefault("optimizer", "adam")
    recipe.setdefault("learning_rate", 1e-3)
    recipe.setdefault("schedule", "constant")
    for key in ("warmup_epochs", "weight_decay", "label_smoothing"):
        recipe.setdefault(key, None)
    return recipe


def _augment_kwargs(augment):
    """``augment`` (None/False, True, or ``zoo.data.augmentation`` keyword arguments) as a dict or None."""
    import inspect

    from zoo.data.pipeline import augmentation

    if augment is None or augment is False:
        return None
    accepted = sorted(inspect.signature(augmentation).parameters)
    if augment is True:
        return {}
    if not isinstance(augment, dict):
        fail("augment", augment, "None, True or a dict of zoo.data.augmentation arguments", "train_recipe",
             error=TypeError)
    unknown = sorted(set(augment) - set(accepted) - {"seed"})
    if unknown:
        fail("augment", augment, f"keys among {[k for k in accepted if k != 'seed']}", "train_recipe")
    augmentation(**augment)  # its own checks, before any work
    return dict(augment)


def train_recipe(
    name: str,
    data: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    callbacks=(),
    verbose: int = 0,
    seed: int = 0,
    strategy=None,
    *,
    optimizer: str | None = None,
    learning_rate: float | None = None,
    schedule: str | None = None,
    warmup_epochs: float | None = None,
    weight_decay: float | None = None,
    label_smoothing: float | None = None,
    image_size: int | None = None,
    augment=None,
    mixed_precision: str | None = None,
    jit_compile: bool | None = None,
    checkpoint_dir=None,
    **model_overrides,
) -> TrainResult:
    """Train registered model ``name`` with its reference recipe on its data, or on ``data``.

    ``data``: any ``zoo.data.load`` source (``"digits"``, a folder of images, ``.npz``,
    ``.csv``, ``mnist``, ``tfds:NAME``), loaded at the recipe's image size and channels;
    a streamed source trains from its ``tf.data`` pipeline.

    ``optimizer``, ``learning_rate``, ``schedule`` (``constant``, ``cosine``, ``step``),
    ``warmup_epochs``, ``weight_decay``, ``label_smoothing``, ``image_size`` and ``augment``
    (True or ``zoo.data.augmentation`` arguments, applied to each training batch) replace
    the recipe's (:func:`resolve_recipe`); ``mixed_precision`` (``bfloat16``, ``float16``)
    builds the model under the ``mixed_*`` policy; ``jit_compile`` XLA-compiles the step;
    ``weights=`` (in ``model_overrides``) a pretrained tag or a local weights file.

    With ``strategy`` (a name from ``zoo.distribute.KINDS`` or a
    ``tf.distribute.Strategy``) or ``checkpoint_dir``, the model is trained by :func:`fit`
    (``batch_size`` is the global batch) and tested on the local host; without them, by
    ``model.fit``. ``checkpoint_dir``: a later call with the same folder resumes where this one
    stopped and ends where an uninterrupted run ends (the recipe's best-epoch restore included).
    """
    import zoo
    from zoo import data as zdata
    from zoo.core.recipe import recipe_loss, recipe_optimizer
    from zoo.training import distribute as zdist

    check_type("callbacks", callbacks, (list, tuple), "a list of keras.callbacks.Callback objects", "train_recipe")
    check_choice("mixed_precision", mixed_precision, MIXED_PRECISION, "train_recipe")
    check_choice("jit_compile", jit_compile, (None, True, False), "train_recipe")
    check_path("checkpoint_dir", checkpoint_dir, "train_recipe", allow_none=True)
    recipe = resolve_recipe(name, data, epochs, batch_size, optimizer=optimizer, learning_rate=learning_rate,
                            schedule=schedule, warmup_epochs=warmup_epochs, weight_decay=weight_decay,
                            label_smoothing=label_smoothing, image_size=image_size, augment=augment)
    strat = zdist.strategy(strategy) if strategy is not None else None  # first: multi-worker needs that
    meta = zoo.info(name)
    data, epochs, batch_size = recipe["data"], recipe["epochs"], recipe["batch_size"]

    seed_everything(seed)  # Python, NumPy, TensorFlow, Keras; op determinism
    splits = zdata.load(data, seed=seed, **recipe["data_kwargs"])
    kwargs = dict(input_shape=splits.input_shape, num_classes=splits.num_classes)
    kwargs.update(recipe.get("model_kwargs", {}))
    kwargs.update(model_overrides)
    kwargs = {k: v for k, v in kwargs.items() if k in meta["arguments"]}
    if batch_size == "full":
        batch_size = len(splits.labels("train"))
    total_steps = epochs * -(-len(splits.labels("train")) // batch_size)
    aug = _augmentation(recipe["augment"], splits.input_shape, seed)
    callbacks = [*callbacks, *recipe_callbacks(recipe, epochs, checkpoint_dir)]
    if splits.streamed or aug is not None:  # batches from a tf.data pipeline (under a strategy, test as arrays)
        train = splits.dataset("train", batch_size=batch_size, seed=seed, augment=aug)
        val = splits.dataset("val", batch_size=batch_size, seed=seed)
    else:
        train, val = splits.train, splits.val

    def build():
        return _apply_bn_momentum(zoo.get(name, **kwargs), recipe)

    loss, metrics = recipe_loss(recipe), list(recipe.get("metrics", []))
    start = time.perf_counter()
    if strat is not None or checkpoint_dir is not None:
        history = fit(
            build, train, validation_data=val, epochs=epochs, batch_size=batch_size, seed=seed,
            optimizer=recipe_optimizer(recipe, total_steps), loss=loss, metrics=metrics, callbacks=list(callbacks),
            strategy=strat, verbose=verbose, mixed_precision=mixed_precision, jit_compile=jit_compile,
            checkpoint_dir=None if checkpoint_dir is None else os.fspath(checkpoint_dir),
        )
        model = history.model
        test = evaluate_arrays(model, *splits.arrays("test"), loss, metrics)
        return TrainResult(model, history, test, time.perf_counter() - start, data)
    previous = keras.config.dtype_policy()
    if mixed_precision not in (None, "float32"):
        keras.config.set_dtype_policy(f"mixed_{mixed_precision}")
    try:
        model = build()
    finally:
        keras.config.set_dtype_policy(previous)
    compile_from_recipe(model, recipe, total_steps=total_steps, jit_compile="auto" if jit_compile is None else jit_compile)
    if isinstance(train, tuple):
        history = model.fit(*train, validation_data=val, epochs=epochs, batch_size=batch_size,
                            callbacks=list(callbacks), verbose=verbose)
        test = model.evaluate(*splits.test, verbose=0, return_dict=True)
    else:
        history = model.fit(train, validation_data=val, epochs=epochs, callbacks=list(callbacks), verbose=verbose,
                            shuffle=False)  # the pipeline shuffles
        test = model.evaluate(splits.dataset("test", batch_size=batch_size), verbose=0, return_dict=True)
    return TrainResult(model, history, test, time.perf_counter() - start, data)


def _augmentation(kwargs, input_shape, seed):
    """``zoo.data.augmentation(**kwargs)`` for image data (None without ``kwargs``); flat data is refused."""
    if kwargs is None:
        return None
    if len(input_shape) != 3:
        fail("augment", kwargs or True, f"None for data of shape {tuple(input_shape)}; augmentation needs images of shape "
             "(height, width, channels)", "train_recipe")
    from zoo.data.pipeline import augmentation

    return augmentation(**{"seed": seed, **kwargs})


def recipe_callbacks(recipe, epochs, checkpoint_dir=None) -> list:
    """The callbacks a recipe asks for: ``restore_best`` ends on the best validation epoch's weights
    (by ``val_loss``, or the validation metric it names, e.g. ``"val_accuracy"``).

    A short run on small data ends wherever its last large step landed; the best of its
    epochs on the validation split is the figure that holds from seed to seed. With
    ``checkpoint_dir`` the best weights and value are kept on disk (``CHECKPOINT_DIR/best``,
    :class:`zoo.callbacks.Checkpoint`), so that a resumed run restores the same epoch.
    """
    if not recipe.get("restore_best"):
        return []
    monitor = recipe["restore_best"] if isinstance(recipe["restore_best"], str) else "val_loss"
    if checkpoint_dir is not None:
        from zoo.training.callbacks import Checkpoint

        return [Checkpoint(os.path.join(os.fspath(checkpoint_dir), "best"), monitor=monitor, save_last=False,
                           restore_best=True)]
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
