"""Hyperparameter search over registry models, on keras-tuner.

``zoo.tune("mlp", "digits", space={"learning_rate": [1e-3, 1e-2], "hidden_units": [(64,), (128, 64)]},
method="grid")`` builds the model once per trial with that trial's values,
trains it on the training split, scores it on the validation split, and
returns the best configuration and a table of every trial.

- ``space``: argument name -> list of candidate values. A name is a builder
  argument of the model (``zoo.info(name)["arguments"]``) or one of
  ``learning_rate``, ``optimizer``, ``batch_size``. Values may be any Python
  values (tuples too: they are encoded for keras-tuner and decoded back).
- ``method``: ``"grid"`` (every combination, up to ``max_trials``), ``"random"``,
  ``"hyperband"`` (Li et al. 2018: many short trials, the best trained longer up
  to ``epochs``) or ``"bayesian"``: keras-tuner's own tuners, wrapped.
- Trials resume after an interruption: keras-tuner's project directory
  (``directory``/``project_name``) records finished trials, and a rerun with
  ``overwrite=False`` (the default) runs only those still missing.

``zoo.tune`` is this module, callable (``zoo.tune(...)`` is ``zoo.tune.tune(...)``).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
import types

from zoo.core.checks import check_bool, check_int, check_path, check_str
from zoo.core.seeding import seed_everything

__all__ = ["TuneResult", "tune", "METHODS"]

METHODS = ("grid", "random", "hyperband", "bayesian")
_TRAINING_ARGS = ("learning_rate", "optimizer", "batch_size")


@dataclasses.dataclass
class TuneResult:
    """The best configuration, every trial (best first), and the keras-tuner tuner."""

    best_config: dict
    best_score: float
    objective: str
    table: list
    tuner: object = dataclasses.field(repr=False)

    def best_model(self):
        """The best trial's trained model, reloaded from the project directory."""
        return self.tuner.get_best_models(1)[0]

    def format_table(self) -> str:
        """The trials as a Markdown table, best first."""
        if not self.table:
            return "(no trial finished)"
        keys = list(self.table[0])
        rows = [keys] + [[_fmt(row.get(k)) for k in keys] for row in self.table]
        widths = [max(len(r[i]) for r in rows) for i in range(len(keys))]
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines)


def _fmt(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _encode(name, values):
    """Values keras-tuner accepts as a Choice, and the map back to the user's values."""
    if not isinstance(values, (list, tuple)) or len(values) == 0:
        raise ValueError(f"invalid space[{name!r}]={values!r}; expected a non-empty list of candidate values")
    kinds = {type(v) for v in values}
    if len(kinds) == 1 and kinds <= {int, float, str, bool}:
        return list(values), {v: v for v in values}
    labels = [f"{i}:{v!r}" for i, v in enumerate(values)]
    return labels, dict(zip(labels, values))


def _check(name, space, method, max_trials, epochs):
    import zoo

    check_str("name", name, "tune", accepted="a registered model name (zoo.list_models())")
    meta = zoo.info(name)  # unknown names fail here, with close matches
    if not isinstance(space, dict) or not space:
        raise ValueError(
            f"invalid space={space!r}; expected a non-empty dict of argument -> candidate values, "
            "e.g. {'learning_rate': [1e-3, 1e-2]}"
        )
    accepted = sorted(set(meta["arguments"]) - {"weights", "compile", "input_shape", "num_classes", "keras"}
                      | set(_TRAINING_ARGS))
    for key in space:
        if key not in accepted:
            close = difflib.get_close_matches(str(key), accepted, n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"invalid space key {key!r}{hint}; {name} accepts {', '.join(accepted)}")
    if method not in METHODS:
        raise ValueError(f"invalid method={method!r}; expected one of {', '.join(METHODS)}")
    for arg, value in (("max_trials", max_trials), ("epochs", epochs)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ValueError(f"invalid {arg}={value!r}; expected a positive integer")
    return meta


def tune(
    name,
    data=None,
    space=None,
    method="grid",
    max_trials=None,
    epochs=None,
    objective=None,
    directory="runs/tune",
    project_name=None,
    overwrite=False,
    data_kwargs=None,
    callbacks=(),
    seed=0,
    verbose=0,
    **fixed,
) -> TuneResult:
    """Search ``space`` for registered model ``name`` on ``data``; see the module docstring.

    ``data``: a built-in dataset name (default: the model's recipe data, with its
    ``data_kwargs``), ``zoo.data.Splits`` or ``((x, y), (x_val, y_val))``.
    ``objective`` (default ``val_accuracy`` for classifiers, else ``val_loss``)
    is read on the validation split. ``max_trials`` defaults to the size of the
    grid. ``fixed`` are model arguments held constant. Returns a ``TuneResult``.
    """
    import keras_tuner as kt

    from zoo.training.transfer import as_splits

    meta = _check(name, space, method, max_trials, epochs)
    check_path("directory", directory, "tune")
    check_str("project_name", project_name, "tune", allow_none=True)
    check_str("objective", objective, "tune", allow_none=True, accepted="a metric name such as 'val_loss'")
    check_bool("overwrite", overwrite, "tune")
    check_int("seed", seed, owner="tune")
    recipe = dict(meta["recipe"] or {})
    if data is None:
        if not recipe:
            raise ValueError(f"{name} has no reference recipe; pass data=")
        data = recipe["data"]
    if isinstance(data, str) and data_kwargs is None and data == recipe.get("data"):
        data_kwargs = recipe.get("data_kwargs", {})
    splits = as_splits(data, data_kwargs)
    epochs = epochs or min(recipe.get("epochs", 10), 10)
    classification = meta["task"] == "classification"
    objective = objective or ("val_accuracy" if classification else "val_loss")
    direction = "max" if any(k in objective for k in ("acc", "auc")) else "min"
    grid_size = 1
    encoded = {}
    for key, values in space.items():
        encoded[key] = _encode(key, values)
        grid_size *= len(values)
    max_trials = max_trials or grid_size

    base = {"input_shape": splits.input_shape, "num_classes": splits.num_classes,
            **recipe.get("model_kwargs", {}), **fixed}
    base = {k: v for k, v in base.items() if k in meta["arguments"]}
    loss = recipe.get("loss", "sparse_categorical_crossentropy" if classification else "mse")
    metrics = list(recipe.get("metrics", ["accuracy"] if classification else []))

    class HyperModel(kt.HyperModel):
        def _values(self, hp):
            return {k: encoded[k][1][hp.Choice(k, encoded[k][0])] for k in space}

        def build(self, hp):
            import zoo
            from zoo.core.recipe import make_optimizer

            values = self._values(hp)
            model_args = {**base, **{k: v for k, v in values.items() if k not in _TRAINING_ARGS}}
            model = zoo.get(name, **model_args)
            model.compile(
                optimizer=make_optimizer(values.get("optimizer", recipe.get("optimizer", "adam")),
                                         values.get("learning_rate", recipe.get("learning_rate", 1e-3))),
                loss=loss, metrics=metrics,
            )
            return model

        def fit(self, hp, model, *args, **kwargs):
            batch_size = self._values(hp).get("batch_size", recipe.get("batch_size", 32))
            if batch_size == "full":
                batch_size = len(args[0])
            return model.fit(*args, batch_size=batch_size, **kwargs)

    common = dict(
        objective=kt.Objective(objective, direction), directory=os.fspath(directory),
        project_name=project_name or f"{name}_{method}", overwrite=overwrite, seed=seed,
    )
    hypermodel = HyperModel()
    if method == "grid":
        import itertools

        grid = [dict(zip(space, combo)) for combo in itertools.product(*(encoded[k][0] for k in space))]
        oracle = _grid_oracle(kt)(grid, objective=common.pop("objective"), max_trials=max_trials, seed=seed)
        tuner = type("GridSearch", (_OptionalTensorBoard, kt.Tuner), {})(oracle=oracle, hypermodel=hypermodel,
                                                                          **{k: common[k] for k in common if k != "seed"})
    else:
        tuner_class = {"random": kt.RandomSearch, "bayesian": kt.BayesianOptimization, "hyperband": kt.Hyperband}[method]
        tuner_class = type(tuner_class.__name__, (_OptionalTensorBoard, tuner_class), {})
        if method == "hyperband":
            tuner = tuner_class(hypermodel, max_epochs=max(epochs, 2), factor=3, **common)
        else:
            tuner = tuner_class(hypermodel, max_trials=max_trials, **common)
    if method != "hyperband":
        tuner.oracle.max_trials = max_trials  # a reloaded project keeps its old limit: a rerun may extend it

    (x, y), (xv, yv) = splits.train, splits.val
    seed_everything(seed)  # Python, NumPy, TensorFlow, Keras; op determinism
    tuner.search(x, y, validation_data=(xv, yv), epochs=epochs, callbacks=list(callbacks), verbose=verbose)

    table = []
    for trial in tuner.oracle.get_best_trials(num_trials=len(tuner.oracle.trials)):
        values = {k: encoded[k][1][trial.hyperparameters.get(k)] for k in space}
        row = {"trial": trial.trial_id, **values, objective: trial.score, "status": str(trial.status)}
        if method == "hyperband":
            row["epochs"] = trial.hyperparameters.values.get("tuner/epochs")
        table.append(row)
    if not table:
        raise RuntimeError(f"no trial of {name} finished; see the logs in {common['directory']}")
    best = {k: v for k, v in table[0].items() if k in space}
    return TuneResult(best, float(table[0][objective]), objective, table, tuner)


def _grid_oracle(kt):
    """An oracle that walks the grid in order, skipping combinations any earlier trial has (resumable).

    keras-tuner's own GridSearch keeps its place in memory only, so a reloaded
    project cannot go on with the combinations it had not reached.
    """

    class GridOracle(kt.Oracle):
        def __init__(self, grid, **kwargs):
            super().__init__(**kwargs)
            self.grid = grid

        def populate_space(self, trial_id):
            tried = [t.hyperparameters.values for t in self.trials.values() if t.trial_id != trial_id]
            for combo in self.grid:
                if not any(all(values.get(k) == v for k, v in combo.items()) for values in tried):
                    return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": combo}
            return {"status": kt.engine.trial.TrialStatus.STOPPED, "values": None}

    return GridOracle


class _OptionalTensorBoard:
    """keras-tuner imports tensorboard for every trial; only do so when a TensorBoard callback asks for it."""

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        if any(type(c).__name__ == "TensorBoard" for c in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)


class _CallableModule(types.ModuleType):
    """Lets ``zoo.tune(...)`` call :func:`tune` while ``zoo.tune`` stays this module."""

    def __call__(self, *args, **kwargs):
        return tune(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
