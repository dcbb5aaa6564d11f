"""Training: the loop, recipes, checkpoints, strategies, callbacks, optimizers, search, transfer.

``zoo.train`` is this package (the name users know): ``zoo.train.fit``,
``zoo.train.train_recipe``, ``zoo.train.compile_from_recipe`` ...

- :mod:`~zoo.training.loop`: ``fit``, ``model.fit`` under every tf.distribute strategy;
- :mod:`~zoo.training.inputs` and :mod:`~zoo.training.checkpoint`: its input and its checkpoints;
- :mod:`~zoo.training.recipes`: ``train_recipe``, a registered recipe run end to end;
- :mod:`~zoo.training.distribute` (``zoo.distribute``): strategies and multi-worker helpers;
- :mod:`~zoo.training.callbacks`, :mod:`~zoo.training.optimizers` (``zoo.callbacks``, ``zoo.optimizers``);
- :mod:`~zoo.training.tune` (``zoo.tune``), :mod:`~zoo.training.transfer` (``zoo.transfer``),
  :mod:`~zoo.training.unsupervised` (``zoo.unsupervised``).
"""

from zoo.core.recipe import SCHEDULES, compile_from_recipe, make_optimizer, scheduled_learning_rate
from zoo.training.loop import MIXED_PRECISION, fit
from zoo.training.recipes import TrainResult, evaluate_arrays, recipe_callbacks, train_recipe

__all__ = [
    "MIXED_PRECISION",
    "SCHEDULES",
    "TrainResult",
    "compile_from_recipe",
    "evaluate_arrays",
    "fit",
    "make_optimizer",
    "recipe_callbacks",
    "scheduled_learning_rate",
    "train_recipe",
]
