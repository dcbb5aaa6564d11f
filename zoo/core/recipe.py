"""A registered recipe (data) turned into an optimizer and a compiled model.

A recipe is data in the registry (``zoo.info(name)["recipe"]``)::

    dict(data="digits", data_kwargs=dict(flat=True), optimizer="adam",
         learning_rate=1e-3, loss="sparse_categorical_crossentropy",
         metrics=["accuracy"], epochs=40, batch_size=32, model_kwargs={},
         schedule="cosine", restore_best=True)

``schedule`` decays the learning rate over the run (``"constant"`` by default);
``restore_best`` ends the run on the weights of its best validation epoch
(``keras.callbacks.EarlyStopping(restore_best_weights=True)`` without stopping early).
A recipe may also set ``warmup_epochs`` (a linear warmup before the schedule),
``weight_decay`` (decoupled, the optimizer's own) and ``label_smoothing`` (for the
sparse and categorical cross-entropies); ``python -m zoo train`` sets them from its flags.

This module sits below the registry (``zoo.get(name, compile=True)`` uses it);
running a recipe end to end is ``zoo.train.train_recipe``.
"""

from __future__ import annotations

import math

import keras
from keras import ops

__all__ = ["OPTIMIZERS", "make_optimizer", "SCHEDULES", "scheduled_learning_rate", "WarmupSchedule",
           "SmoothedSparseCrossentropy", "recipe_loss", "recipe_learning_rate", "recipe_optimizer", "compile_from_recipe"]

OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "momentum": lambda learning_rate, **kwargs: keras.optimizers.SGD(learning_rate, momentum=0.9, **kwargs),
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
}



def make_optimizer(name="adam", learning_rate=1e-3, weight_decay=None):
    """An optimizer by name (``sgd``, ``momentum``, ``adam``, ``adamw``, ``rmsprop``) or as given.

    ``weight_decay``: the optimizer's decoupled weight decay (Keras's ``weight_decay=``); None keeps its default.
    """
    if not isinstance(name, str):
        return name
    if name not in OPTIMIZERS:
        raise ValueError(f"invalid optimizer={name!r}; expected one of {sorted(OPTIMIZERS)} or an instance")
    extra = {} if weight_decay is None else {"weight_decay": weight_decay}
    return OPTIMIZERS[name](learning_rate=learning_rate, **extra)


SCHEDULES = ("constant", "cosine", "step")


def scheduled_learning_rate(learning_rate, schedule="constant", total_steps=None, warmup_steps=0):
    """``learning_rate`` over a run of ``total_steps``: as given (``"constant"``), decayed to 0 by a half
    cosine (``"cosine"``) or divided by 10 after each third of the run (``"step"``, torchvision's classic
    30/60/90 epochs); ``warmup_steps`` first climb linearly to it (Goyal et al. 2017), as timm's ``--warmup-epochs``.

    Cosine decay (Loshchilov & Hutter 2017, without restarts) ends a short run on small
    steps, so its final weights do not depend on where the last large step landed.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"invalid schedule={schedule!r}; expected one of {list(SCHEDULES)}")
    if not isinstance(warmup_steps, int) or isinstance(warmup_steps, bool) or warmup_steps < 0:
        raise ValueError(f"invalid warmup_steps={warmup_steps!r}; expected an integer >= 0")
    if schedule == "constant" and not warmup_steps:
        return learning_rate
    if not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"invalid total_steps={total_steps!r} for schedule={schedule!r}; expected a positive integer")
    if schedule == "cosine" and not warmup_steps:  # Keras's own, as the registered recipes have always run
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    return WarmupSchedule(learning_rate, schedule, total_steps, warmup_steps)


@keras.saving.register_keras_serializable(package="zoo")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A linear warmup over ``warmup_steps`` (step ``i`` uses ``(i + 1) / warmup_steps`` of the rate), then
    ``schedule`` (``constant``, ``cosine`` to 0 or ``step``: a tenth after each third) over the rest of
    ``total_steps``. Saved with the optimizer in a ``.keras`` file."""

    def __init__(self, learning_rate, schedule, total_steps, warmup_steps=0):
        super().__init__()
        self.learning_rate, self.schedule = float(learning_rate), schedule
        self.total_steps, self.warmup_steps = int(total_steps), int(warmup_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        lr, warm = self.learning_rate, float(self.warmup_steps)
        done = ops.clip((step - warm) / max(self.total_steps - self.warmup_steps, 1), 0.0, 1.0)
        if self.schedule == "cosine":
            after = 0.5 * lr * (1.0 + ops.cos(math.pi * done))
        elif self.schedule == "step":
            after = lr * ops.power(0.1, ops.minimum(ops.floor(done * 3.0), 2.0))
        else:
            after = lr * ops.ones_like(step)
        if not self.warmup_steps:
            return after
        return ops.where(step < warm, lr * (step + 1.0) / warm, after)

    def get_config(self):
        return dict(learning_rate=self.learning_rate, schedule=self.schedule, total_steps=self.total_steps,
                    warmup_steps=self.warmup_steps)


@keras.saving.register_keras_serializable(package="zoo")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy with label smoothing (Szegedy et al. 2016), which Keras's
    ``SparseCategoricalCrossentropy`` lacks: integer labels, one-hot inside, ``label_smoothing`` spread."""

    def __init__(self, label_smoothing=0.1, from_logits=False, name="smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing, self.from_logits = float(label_smoothing), bool(from_logits)

    def call(self, y_true, y_pred):
        classes = ops.shape(y_pred)[-1]
        labels = ops.one_hot(ops.reshape(ops.cast(y_true, "int32"), ops.shape(y_pred)[:-1]), classes)
        return keras.losses.categorical_crossentropy(labels, y_pred, from_logits=self.from_logits,
                                                     label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing, "from_logits": self.from_logits}


def recipe_loss(recipe: dict):
    """The recipe's loss: its identifier (a Keras loss config becomes the loss), smoothed by ``label_smoothing``."""
    loss, smoothing = recipe.get("loss"), recipe.get("label_smoothing") or 0.0
    if isinstance(loss, dict):  # a Keras loss config, e.g. {"class_name": ..., "config": {"from_logits": True}}
        loss = keras.losses.get(loss)
    if not smoothing:
        return loss
    name = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
    logits = bool(getattr(loss, "from_logits", False))
    if name == "sparse_categorical_crossentropy":
        return SmoothedSparseCrossentropy(smoothing, from_logits=logits)
    if name == "categorical_crossentropy":
        return keras.losses.CategoricalCrossentropy(from_logits=logits, label_smoothing=smoothing)
    raise ValueError(f"invalid label_smoothing={smoothing!r} for loss {name!r}; expected 0 (label smoothing is for "
                     "the sparse and categorical cross-entropies)")


def recipe_learning_rate(recipe: dict, total_steps: int | None = None):
    """The recipe's learning rate (a number or a schedule) over a run of ``total_steps`` (None: constant)."""
    learning_rate = recipe.get("learning_rate", 1e-3)
    if total_steps is None:
        return learning_rate
    warmup = int(round(total_steps * (recipe.get("warmup_epochs") or 0) / (recipe.get("epochs") or 1)))
    return scheduled_learning_rate(learning_rate, recipe.get("schedule", "constant"), total_steps, warmup)


def recipe_optimizer(recipe: dict, total_steps: int | None = None):
    """The recipe's optimizer, its learning rate scheduled over ``total_steps`` (None: constant, no warmup)."""
    return make_optimizer(recipe.get("optimizer", "adam"), recipe_learning_rate(recipe, total_steps),
                          recipe.get("weight_decay"))


def compile_from_recipe(model, recipe: dict, name: str | None = None, total_steps: int | None = None,
                        jit_compile="auto", **overrides):
    """Compile ``model`` with the recipe's optimizer, loss and metrics (``overrides`` win).

    The recipe's ``schedule`` (``"cosine"``, ``"step"``, after ``warmup_epochs``) runs over
    ``total_steps``, the steps of the whole run; without ``total_steps`` (the run's length
    unknown) the rate stays constant. ``jit_compile`` goes to ``model.compile``.
    """
    recipe = {**recipe, **overrides}
    model.compile(
        optimizer=recipe_optimizer(recipe, total_steps),
        loss=recipe_loss(recipe),
        metrics=list(recipe.get("metrics", [])),
        jit_compile=jit_compile,
    )
    return model


