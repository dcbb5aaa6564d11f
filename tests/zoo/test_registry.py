"""The registry's API and every error it raises."""

import keras
import numpy as np
import pytest

import zoo


def test_three_lines_from_the_readme():
    model = zoo.get("mlp", input_shape=(64,), num_classes=10)
    assert model.output_shape == (None, 10)
    assert isinstance(model, keras.Model)


def test_list_models_wildcards_family_task_sorted():
    names = zoo.list_models()
    assert names == sorted(names)
    assert {"perceptron", "mlp", "logistic_regression"} <= set(names)
    assert zoo.list_models("m*") == [n for n in names if n.startswith("m")]
    assert "mlp" in zoo.list_models(family="mlp")
    assert "perceptron" not in zoo.list_models(family="mlp")
    assert zoo.list_models("no-such-*") == []
    assert set(zoo.list_models(task="classification")) <= set(names)


def test_info_holds_the_metadata():
    meta = zoo.info("mlp")
    for key in ("family", "task", "paper", "params", "min_input_shape", "recipe", "reference", "defaults"):
        assert key in meta
    assert meta["params"] == 17_226
    assert meta["reference"]["metric"] == "accuracy"
    assert meta["defaults"]["hidden_units"] == (128, 64)


def test_unknown_name_lists_close_matches():
    with pytest.raises(KeyError) as err:
        zoo.get("mpl")
    assert isinstance(err.value, zoo.UnknownModelError)
    assert "unknown model 'mpl'" in str(err.value) and "mlp" in str(err.value)
    with pytest.raises(zoo.UnknownModelError, match="zoo.list_models"):
        zoo.info("qqqqqqqq")


def test_unknown_override_names_argument_and_accepted():
    with pytest.raises(ValueError, match=r"unknown argument 'num_clases'.*did you mean num_classes.*accepted:"):
        zoo.get("mlp", num_clases=3)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(num_classes=0), r"invalid num_classes=0; expected a positive integer"),
        (dict(num_classes=2.5), r"invalid num_classes=2.5"),
        (dict(num_classes=True), r"invalid num_classes=True"),
        (dict(input_shape=(0,)), r"invalid input_shape=\(0,\); expected a tuple of positive integers"),
        (dict(input_shape="64"), r"invalid input_shape='64'"),
        (dict(dropout=1.5), r"invalid dropout=1.5; expected a number in \[0, 1\)"),
        (dict(activation="swishy"), r"invalid activation='swishy'; expected one of"),
        (dict(hidden_units=(8, -1)), r"invalid hidden_units=\(8, -1\)"),
        (dict(task="ranking"), r"invalid task='ranking'"),
        (dict(include_top="yes"), r"invalid include_top='yes'; expected True or False"),
        (dict(weights=3), r"invalid weights=3; expected None or a path"),
        (dict(weights="model.pt"), r"invalid weights='model.pt'; expected a path ending in .weights.h5 or .keras"),
    ],
)
def test_bad_values_are_rejected_with_the_argument_named(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        zoo.get("mlp", **kwargs)


def test_input_below_minimum_is_rejected_before_building(monkeypatch):
    import dataclasses
    import functools

    import zoo.registry as reg

    meta = reg._REGISTRY["mlp"]
    calls = []

    @functools.wraps(meta.builder)
    def recording_builder(**kwargs):
        calls.append(kwargs)
        return meta.builder(**kwargs)

    guarded = dataclasses.replace(meta, min_input_shape=(16,), builder=recording_builder)
    monkeypatch.setitem(reg._REGISTRY, "mlp", guarded)
    with pytest.raises(ValueError, match=r"invalid input_shape=\(8,\); expected every dimension at least \(16,\)"):
        zoo.get("mlp", input_shape=(8,))
    with pytest.raises(ValueError, match=r"expected a shape of rank 1"):
        zoo.get("mlp", input_shape=(16, 16))
    assert calls == []
    zoo.get("mlp", input_shape=(16,))
    assert len(calls) == 1


def test_missing_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        zoo.get("mlp", weights=str(tmp_path / "nothing.weights.h5"))


def test_corrupt_weights_file_leaves_model_unchanged(tmp_path):
    model = zoo.get("mlp")
    before = model.get_weights()
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(b"this is not hdf5")
    with pytest.raises(ValueError, match="could not read weights file"):
        zoo.load_weights(model, str(bad))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_mismatched_weights_file_raises_and_leaves_model_unchanged(tmp_path):
    source = zoo.get("mlp", hidden_units=(32, 16))
    path = str(tmp_path / "small.weights.h5")
    source.save_weights(path)
    model = zoo.get("mlp")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"does not match model 'mlp'.*dense_0"):
        zoo.load_weights(model, path)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    deeper = zoo.get("mlp", hidden_units=(128, 64, 64))
    deeper.save_weights(path)
    with pytest.raises(ValueError, match="more weight array"):
        zoo.get("mlp", weights=path)


def test_weights_with_another_class_count_swap_the_head(tmp_path, caplog):
    source = zoo.get("mlp", num_classes=5)
    path = str(tmp_path / "five.keras")
    source.save(path)
    with caplog.at_level("WARNING", logger="zoo"):
        model = zoo.get("mlp", num_classes=3, weights=path)
    assert "predictions" in caplog.text
    for a, b in zip(source.get_weights()[:-2], model.get_weights()[:-2]):
        np.testing.assert_array_equal(a, b)
    assert model.output_shape == (None, 3)


def test_compile_true_applies_the_recipe():
    model = zoo.get("mlp", compile=True)
    assert model.compiled
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.loss == "sparse_categorical_crossentropy"


def test_listing_models_imports_no_tensorflow():
    """``import zoo; zoo.list_models()`` and ``zoo.info`` read data: no TensorFlow, no Keras."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, zoo; zoo.list_models(); zoo.info('resnet50'); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, heavy[:5]"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
