"""zoo.tune on keras-tuner: grid/random/hyperband, the results table, resuming, bad inputs."""

import keras
import pytest

import zoo


def _blobs():
    return zoo.data.load("blobs", n_samples=200, seed=0)


class _Count(keras.callbacks.Callback):
    runs = 0
    interrupt_at = None

    def on_train_begin(self, logs=None):
        type(self).runs += 1
        if type(self).runs == type(self).interrupt_at:
            raise KeyboardInterrupt  # the user (or the cluster) stops the search mid-trial


def test_grid_search_tries_every_combination_and_resumes(tmp_path):
    space = {"learning_rate": [1e-4, 3e-2], "hidden_units": [(4,), (32, 16)]}
    _Count.runs, _Count.interrupt_at = 0, 3
    with pytest.raises(KeyboardInterrupt):  # stopped in the middle of the third trial
        zoo.tune("mlp", _blobs(), space=space, method="grid", epochs=2, directory=tmp_path, callbacks=[_Count()])
    # A rerun in the same project keeps the two finished trials; the interrupted one and the last train.
    _Count.interrupt_at = None
    result = zoo.tune("mlp", _blobs(), space=space, method="grid", epochs=2, directory=tmp_path,
                      callbacks=[_Count()])
    assert _Count.runs == 5
    combos = {(row["learning_rate"], row["hidden_units"]) for row in result.table}
    assert combos == {(lr, h) for lr in space["learning_rate"] for h in space["hidden_units"]}
    scores = [row["val_accuracy"] for row in result.table]
    assert scores == sorted(scores, reverse=True) and result.best_score == scores[0]
    assert result.best_config["learning_rate"] == 3e-2  # 2 epochs at 1e-4 barely move
    assert isinstance(result.best_config["hidden_units"], tuple)
    text = result.format_table()
    assert text.startswith("| trial") and "val_accuracy" in text and text.count("\n") == 5
    best = result.best_model()
    xv, yv = _blobs().val
    acc = best.evaluate(xv, yv, verbose=0, return_dict=True)["accuracy"]
    assert acc == pytest.approx(result.best_score, abs=1e-6)


def test_random_search_resumes_after_an_interrupted_trial_and_hyperband(tmp_path):
    space = {"learning_rate": [1e-3, 1e-2, 1e-1]}
    _Count.runs, _Count.interrupt_at = 0, 2
    with pytest.raises(KeyboardInterrupt):  # stopped in the middle of the second trial
        zoo.tune("logistic_regression", _blobs(), space=space, method="random", max_trials=3, epochs=2,
                 directory=tmp_path, callbacks=[_Count()])
    _Count.interrupt_at = None
    rnd = zoo.tune("logistic_regression", _blobs(), space=space, method="random", max_trials=3, epochs=2,
                   directory=tmp_path, callbacks=[_Count()])
    assert _Count.runs == 4  # the finished trial is kept; the interrupted one and the third run
    assert len(rnd.table) == 3 and {row["learning_rate"] for row in rnd.table} == set(space["learning_rate"])
    hb = zoo.tune("logistic_regression", _blobs(), space={"learning_rate": [1e-3, 1e-1]},
                  method="hyperband", epochs=2, directory=tmp_path, objective="val_loss")
    assert hb.objective == "val_loss" and hb.table and "epochs" in hb.table[0]
    losses = [row["val_loss"] for row in hb.table]
    assert losses == sorted(losses)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(space={}), ValueError, "invalid space=.*non-empty dict"),
    (dict(space=None), ValueError, "invalid space=None"),
    (dict(space={"learning_rate": []}), ValueError, r"invalid space\['learning_rate'\]"),
    (dict(space={"hiden_units": [(8,)]}), ValueError, "invalid space key 'hiden_units' .did you mean hidden_units"),
    (dict(space={"learning_rate": [0.1]}, method="annealing"), ValueError, "invalid method='annealing'"),
    (dict(space={"learning_rate": [0.1]}, max_trials=0), ValueError, "invalid max_trials=0"),
])
def test_bad_inputs(kwargs, error, match, tmp_path):
    with pytest.raises(error, match=match):
        zoo.tune("mlp", _blobs(), directory=tmp_path, **kwargs)
    with pytest.raises(zoo.UnknownModelError, match="did you mean mlp"):
        zoo.tune("mpl", _blobs(), space={"learning_rate": [0.1]}, directory=tmp_path)
