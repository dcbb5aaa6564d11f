"""Training: reference recipes of registered models.

A recipe is data in the registry (``zoo.info(name)["recipe"]``)::

    dict(data="digits", data_kwargs=dict(flat=True), optimizer="adam",
         learning_rate=1e-3, loss="sparse_categorical_crossentropy",
         metrics=["accuracy"], epochs=40, batch_size=32, model_kwargs={})

``train_recipe`` loads the built-in data, builds the model to fit it, compiles
it with the recipe and trains it with Keras callbacks.
"""

from __future__ import annotations

import dataclasses
import time

import keras

__all__ = ["make_optimizer", "compile_from_recipe", "train_recipe", "TrainResult"]

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
    **model_overrides,
) -> TrainResult:
    """Train registered model ``name`` with its reference recipe on built-in data."""
    import zoo
    from zoo import data as zdata

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
    model = zoo.get(name, **kwargs)
    compile_from_recipe(model, recipe)

    start = time.perf_counter()
    (x, y), (xv, yv), (xt, yt) = splits.train, splits.val, splits.test
    if batch_size == "full":
        batch_size = len(x)
    history = model.fit(
        x, y, validation_data=(xv, yv), epochs=epochs, batch_size=batch_size,
        callbacks=list(callbacks), verbose=verbose,
    )
    test = model.evaluate(xt, yt, verbose=0, return_dict=True)
    return TrainResult(model, history, test, time.perf_counter() - start, data)
