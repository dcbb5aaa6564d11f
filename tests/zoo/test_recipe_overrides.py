"""What ``python -m zoo train``'s flags set in a recipe: warmup and step schedules, label smoothing, weight
decay, ``resolve_recipe``'s checks, and ``Checkpoint(restore_best=True)`` as EarlyStopping's restore."""

import keras
import numpy as np
import pytest

from zoo.core.recipe import (
    SmoothedSparseCrossentropy,
    WarmupSchedule,
    make_optimizer,
    recipe_loss,
    recipe_optimizer,
    scheduled_learning_rate,
)
from zoo.training.callbacks import Checkpoint
from zoo.training.recipes import resolve_recipe


def _values(rate, steps):
    return [float(rate(s)) for s in steps]


def test_cosine_without_warmup_stays_keras_own_schedule():
    rate = scheduled_learning_rate(0.1, "cosine", 100)
    assert type(rate) is keras.optimizers.schedules.CosineDecay and rate.decay_steps == 100
    assert scheduled_learning_rate(0.1, "constant", 100) == 0.1


def test_warmup_then_cosine_is_keras_cosine_after_the_warmup():
    ours = scheduled_learning_rate(0.1, "cosine", 100, warmup_steps=10)
    keras_ = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=90, warmup_target=0.1, warmup_steps=10)
    assert isinstance(ours, WarmupSchedule)
    assert _values(ours, range(10, 100, 7)) == pytest.approx(_values(keras_, range(10, 100, 7)), abs=1e-7)
    assert _values(ours, [0, 4, 9]) == pytest.approx([0.01, 0.05, 0.1])  # (step + 1) / 10 of the rate


def test_step_and_constant_with_warmup():
    step = scheduled_learning_rate(1.0, "step", 40, warmup_steps=10)  # thirds of 30 steps after the warmup
    assert _values(step, [0, 9, 10, 19, 20, 29, 30, 39]) == pytest.approx([0.1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01])
    constant = scheduled_learning_rate(0.5, "constant", 40, warmup_steps=4)
    assert _values(constant, [0, 3, 4, 39]) == pytest.approx([0.125, 0.5, 0.5, 0.5])
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(step))
    assert again.get_config() == step.get_config()


def test_smoothed_sparse_crossentropy_is_the_categorical_one_on_one_hot_labels():
    rng = np.random.default_rng(0)
    pred = keras.ops.softmax(rng.normal(size=(6, 4)).astype("float32"))
    labels = np.array([0, 3, 1, 2, 2, 0])
    reference = keras.losses.CategoricalCrossentropy(label_smoothing=0.2)(np.eye(4)[labels], pred)
    assert float(SmoothedSparseCrossentropy(0.2)(labels, pred)) == pytest.approx(float(reference), rel=1e-6)
    assert isinstance(recipe_loss(dict(loss="sparse_categorical_crossentropy", label_smoothing=0.2)),
                      SmoothedSparseCrossentropy)
    assert recipe_loss(dict(loss="mse")) == "mse"
    with pytest.raises(ValueError, match=r"invalid label_smoothing=0.1 for loss 'mse'; expected 0"):
        recipe_loss(dict(loss="mse", label_smoothing=0.1))


def test_weight_decay_reaches_the_optimizer():
    assert make_optimizer("momentum", 0.1, weight_decay=0.01).weight_decay == pytest.approx(0.01)
    assert make_optimizer("adam", 0.1).weight_decay is None
    opt = recipe_optimizer(dict(optimizer="adamw", learning_rate=0.1, weight_decay=0.5, schedule="step",
                                epochs=4, warmup_epochs=1), total_steps=40)
    assert isinstance(opt, keras.optimizers.AdamW) and opt.weight_decay == pytest.approx(0.5)
    assert opt._learning_rate.get_config() == dict(learning_rate=0.1, schedule="step", total_steps=40,
                                                   warmup_steps=10)


def test_resolve_recipe_applies_and_checks_the_overrides():
    recipe = resolve_recipe("simple_cnn", epochs=3, learning_rate=0.01, schedule="step", image_size=16,
                            augment=dict(rotate=0.1))
    assert (recipe["epochs"], recipe["learning_rate"], recipe["schedule"]) == (3, 0.01, "step")
    assert recipe["data_kwargs"]["image_size"] == 16 and recipe["augment"] == dict(rotate=0.1)
    assert resolve_recipe("mlp")["schedule"] == "cosine"  # the registered one, untouched
    for kwargs, message in [
        (dict(schedule="linear"), r"invalid schedule='linear'; expected one of 'constant', 'cosine', 'step'"),
        (dict(learning_rate=0), r"invalid learning_rate=0; expected a number > 0"),
        (dict(warmup_epochs=40), r"invalid warmup_epochs=40; expected a number in \[0, 40\)"),
        (dict(optimizer="lion"), r"invalid optimizer='lion'; expected one of"),
        (dict(augment=dict(spin=1)), r"invalid augment=\{'spin': 1\}; expected keys among"),
        (dict(momentum=0.9), r"unknown argument\(s\) \['momentum'\]"),
    ]:
        with pytest.raises(ValueError, match=message):
            resolve_recipe("mlp", **kwargs)


def test_checkpoint_restore_best_ends_as_early_stopping_does(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 2, size=64)
    val = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 2, size=32)

    def run(callback):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
        history = model.fit(x, y, validation_data=val, epochs=6, shuffle=False, verbose=0, callbacks=[callback])
        return model.get_weights(), history.history["val_loss"]

    theirs, val_loss = run(keras.callbacks.EarlyStopping(patience=7, restore_best_weights=True))
    ours, _ = run(Checkpoint(tmp_path / "best", save_last=False, restore_best=True))
    assert int(np.argmin(val_loss)) < len(val_loss) - 1  # the best epoch is not the last: restoring matters
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))
    with pytest.raises(ValueError, match="restore_best=True needs save_best=True"):
        Checkpoint(tmp_path, save_best=False, restore_best=True)


def test_mixed_precision_and_augmentation_reach_the_training(tmp_path):
    from zoo.training.recipes import train_recipe

    result = train_recipe("simple_cnn", epochs=1, batch_size=64, image_size=16, augment=dict(rotate=0.05),
                          mixed_precision="bfloat16", filters=(4, 8))
    dense = [layer for layer in result.model.layers if layer.weights]
    assert {layer.dtype_policy.name for layer in dense} == {"mixed_bfloat16"}
    assert all(v.dtype == "float32" for v in result.model.weights)  # float32 variables, bfloat16 compute
    assert result.model.input_shape == (None, 16, 16, 3) and len(result.history.epoch) == 1
    assert 0 <= result.test["accuracy"] <= 1
    with pytest.raises(ValueError, match=r"invalid augment=True; expected None for data of shape \(64,\); "
                                         r"augmentation needs images"):
        train_recipe("mlp", epochs=1, augment=True)
