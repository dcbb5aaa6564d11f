"""A registered recipe (data) turned into an optimizer and a compiled model.

A recipe is data in the registry (``zoo.info(name)["recipe"]``)::

    dict(data="digits", data_kwargs=dict(flat=True), optimizer="adam",
         learning_rate=1e-3, loss="sparse_categorical_crossentropy",
         metrics=["accuracy"], epochs=40, batch_size=32, model_kwargs={},
         schedule="cosine", restore_best=True)

``schedule`` decays the learning rate over the run (``"constant"`` by default);
``restore_best`` ends the run on the weights of its best validation epoch
(``keras.callbacks.EarlyStopping(restore_best_weights=True)`` without stopping early).

This module sits below the registry (``zoo.get(name, compile=True)`` uses it);
running a recipe end to end is ``zoo.train.train_recipe``.
"""

from __future__ import annotations

import keras

__all__ = ["OPTIMIZERS", "make_optimizer", "SCHEDULES", "scheduled_learning_rate", "compile_from_recipe"]

OPTIMIZERS = {
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
    if name not in OPTIMIZERS:
        raise ValueError(f"invalid optimizer={name!r}; expected one of {sorted(OPTIMIZERS)} or an instance")
    return OPTIMIZERS[name](learning_rate=learning_rate)


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


def compile_from_recipe(model, recipe: dict, name: str | None = None, total_steps: int | None = None, **overrides):
    """Compile ``model`` with the recipe's optimizer, loss and metrics (``overrides`` win).

    The recipe's ``schedule`` (``"cosine"``) decays the learning rate over ``total_steps``, the
    steps of the whole run; without ``total_steps`` (the run's length unknown) it stays constant.
    """
    recipe = {**recipe, **overrides}
    loss = recipe.get("loss")
    if isinstance(loss, dict):  # a Keras loss config, e.g. {"class_name": ..., "config": {"from_logits": True}}
        loss = keras.losses.get(loss)
    learning_rate = recipe.get("learning_rate", 1e-3)
    if total_steps is not None:
        learning_rate = scheduled_learning_rate(learning_rate, recipe.get("schedule", "constant"), total_steps)
    model.compile(
        optimizer=make_optimizer(recipe.get("optimizer", "adam"), learning_rate),
        loss=loss,
        metrics=list(recipe.get("metrics", [])),
    )
    return model


