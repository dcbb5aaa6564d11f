"""``python -m zoo finetune`` / ``predict`` end to end, the finetune engine, fine_tune on streamed Splits."""

import contextlib
import io
import json
import re

import keras
import numpy as np
import pytest

import zoo
from zoo import cli
from zoo.data import Splits, Stream
from zoo.training import finetune as ft

CLASSES = ["circle", "square", "stripes"]
PNG = b"\x89PNG"


def _run(argv):
    """``cli.main(argv)`` -> (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """3 classes x 6 PNGs of 16x16 (one subfolder per class): train 4, val 1, test 1 per class."""
    from PIL import Image

    root = tmp_path_factory.mktemp("shapes")
    rng = np.random.default_rng(0)
    for c, name in enumerate(CLASSES):
        (root / name).mkdir()
        for i in range(6):
            pixels = np.clip(rng.normal(60 + 70 * c, 20, size=(16, 16, 3)), 0, 255).astype("uint8")
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def backbone(tmp_path_factory):
    """A tiny simple_cnn (two blocks of 4 and 8 filters) saved as a .keras file."""
    path = tmp_path_factory.mktemp("backbone") / "tiny.keras"
    zoo.get("simple_cnn", input_shape=(16, 16, 3), num_classes=10, filters=(4, 8)).save(path)
    return path


@pytest.fixture(scope="module")
def run(folder, backbone, tmp_path_factory):
    """One CLI fine-tuning run on the folder: its exit code, output and report folder."""
    out = tmp_path_factory.mktemp("report")
    code, stdout, stderr = _run(["finetune", backbone, "--data", folder, "--image-size", 16, "--epochs", 1,
                                 "--batch-size", 4, "--out", out])
    return code, stdout, stderr, out


def test_finetune_cli_writes_the_model_the_report_and_its_pictures(run):
    code, stdout, stderr, out = run
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    model_path = out / "tiny_finetuned.keras"
    assert report["paths"]["model"] == str(model_path) and model_path.stat().st_size > 0
    assert report["class_names"] == CLASSES and report["info"]["sizes"] == {"train": 12, "val": 3, "test": 3}
    assert report["info"]["input_shape"] == [16, 16, 3] and report["info"]["preprocessing"] is None
    assert [s["trainable"] for s in report["stages"]] == ["head", "head + top 2 block(s)"]
    assert [s["learning_rate"] for s in report["stages"]] == [1e-3, 1e-4]
    assert [s["epochs_run"] for s in report["stages"]] == [1, 1]
    confusion = np.array(report["confusion"])
    assert confusion.shape == (3, 3) and confusion.sum() == 3 and confusion.sum(axis=1).tolist() == [1, 1, 1]
    accuracy = np.trace(confusion) / 3
    assert report["test"]["accuracy_counted"] == pytest.approx(accuracy)
    assert report["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-6)  # Keras's figure agrees
    assert [(r["name"], r["examples"], r["correct"]) for r in report["per_class"]] == [
        (n, 1, int(confusion[i, i])) for i, n in enumerate(CLASSES)]
    assert f"test accuracy={accuracy:.4f} ({np.trace(confusion)}/3)" in stdout
    assert f"saved {model_path}" in stdout and f"report {out / 'report.md'}" in stdout
    assert "stage 1 (head)" in stderr and "stage 2 (head + top 2 block(s))" in stderr  # the progress bars
    md = (out / "report.md").read_text()
    assert f"| **test accuracy** | **{accuracy:.4f}** ({np.trace(confusion)}/3) |" in md
    for name in CLASSES:
        assert re.search(rf"^\| {name} \| 1 \| [01] \| [01]\.0000 \|$", md, re.M)
    assert "![learning curves](learning_curves.png)" in md and "![confusion matrix](confusion_matrix.png)" in md
    assert (out / "learning_curves.png").read_bytes()[:4] == PNG
    assert (out / "confusion_matrix.png").read_bytes()[:4] == PNG


def test_predict_prints_class_names_with_sorted_probabilities(run, folder):
    out = run[3]
    images = [folder / "circle" / "0.png", folder / "stripes" / "5.png"]
    code, stdout, stderr = _run(["predict", out / "tiny_finetuned.keras", *images, "--top", 2])
    assert code == 0, stderr
    lines = stdout.strip().splitlines()
    assert len(lines) == 2
    model = zoo.models.load_model(out / "tiny_finetuned.keras")
    x = np.stack(ft.read_images(images, (16, 16), 3))
    probs = model.predict(x, verbose=0)
    for line, path, p in zip(lines, images, probs):
        order = np.argsort(-p)[:2]
        assert line == f"{path}: " + ", ".join(f"{CLASSES[i]} {p[i]:.3f}" for i in order)
    assert zoo.preprocessing.class_names(model) == CLASSES


def test_finetune_by_name_on_digits_keeps_labels_per_class_and_round_trips(tmp_path):
    result = ft.finetune("simple_cnn", "digits", image_size=8, labels_per_class=3, epochs=1, seed=0,
                         save=tmp_path / "digits.keras")
    assert result.info["sizes"]["train"] == 30
    assert result.class_names == [str(i) for i in range(10)] and result.info["input_shape"] == [8, 8, 3]
    assert int(result.confusion.sum()) == result.info["sizes"]["test"] == 360
    assert result.test_accuracy == pytest.approx(result.test["accuracy"], abs=1e-6)
    assert result.paths == {"model": str(tmp_path / "digits.keras")}  # no report without out=
    loaded = zoo.models.load_model(tmp_path / "digits.keras")
    x = zoo.data.load("digits", image_size=8, channels=3).test[0][:16]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), result.model.predict(x, verbose=0))
    assert zoo.preprocessing.class_names(loaded) == result.class_names
    assert zoo.finetune is zoo.transfer.finetune is ft.finetune


def test_a_backbone_wanting_another_range_gets_preprocessing_in_front(rng):
    layer = zoo.preprocessing.ImagePreprocessing
    half = np.array([[[[0.0, 0.5, 1.0]]]], "float32")
    np.testing.assert_allclose(layer("[-1, 1]", input_range="[0, 1]")(half), [[[[-1.0, 0.0, 1.0]]]], atol=1e-6)
    np.testing.assert_allclose(layer("[0, 1]", input_range="[0, 1]")(half), half)
    np.testing.assert_allclose(layer("[0, 255]", input_range="[0, 1]")(half), half * 255, rtol=1e-6)
    np.testing.assert_allclose(layer("caffe", input_range="[0, 1]")(half),
                               [[[[255 - 103.939, 127.5 - 116.779, -123.68]]]], rtol=1e-5)
    np.testing.assert_allclose(layer("[-1, 1]")(half * 255), [[[[-1.0, 0.0, 1.0]]]], atol=1e-6)  # [0, 255] default
    assert layer.from_config(layer("torch", input_range="[0, 1]").get_config()).input_range == "[0, 1]"
    with pytest.raises(ValueError, match=r"invalid input_range='\[0, 2\]'; expected one of"):
        layer("caffe", input_range="[0, 2]")

    net = zoo.get("simple_cnn", input_shape=(8, 8, 3), num_classes=3, filters=(4, 8))
    front = ft.prepend(net, layer("[-1, 1]", input_range="[0, 1]", name="preprocessing"))
    x = rng.uniform(size=(4, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(front(x), net(2 * x - 1), atol=1e-5)
    assert [la.name for la in front.layers[:3]] == ["input", "preprocessing", "block1_conv1"]

    splits = zoo.data.load("digits", channels=3).with_labels_per_class(2)
    result = ft.finetune(net, splits, input_range="[-1, 1]", epochs=1, unfreeze=0)
    assert result.info["preprocessing"] == "[-1, 1]" and len(result.stages) == 1
    assert result.model.get_layer("preprocessing").input_range == "[0, 1]"


def _streamed(splits):
    """The same Splits with every part a Stream over its arrays (shuffled as as_dataset shuffles)."""
    import tensorflow as tf

    def stream(x, y):
        def build(indices, shuffle, seed):
            ds = tf.data.Dataset.from_tensor_slices((x[indices], y[indices]))
            return ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True) if shuffle else ds

        return Stream(y, build, x.shape[1:], description="arrays")

    return Splits(splits.name, *(stream(*p) for p in splits), splits.num_classes)


def test_fine_tune_trains_on_streams_as_on_the_same_arrays():
    digits = zoo.data.load("digits")
    splits = Splits("digits", digits.train, *((x[:40], y[:40]) for x, y in (digits.val, digits.test)), 10)
    splits = splits.with_labels_per_class(4)
    stages = [dict(unfreeze=0, epochs=1, learning_rate=1e-2), dict(unfreeze=1, epochs=1, schedule="cosine")]
    runs = []
    for data in (splits, _streamed(splits)):
        keras.utils.set_random_seed(0)
        net = zoo.get("simple_cnn", input_shape=(8, 8, 1), num_classes=10, filters=(4, 8))
        runs.append(zoo.transfer.fine_tune(net, data, stages=stages, batch_size=8, seed=0))
    arrays, streams = runs
    assert isinstance(_streamed(splits).train, Stream)
    for a, s in zip(arrays.histories, streams.histories):
        np.testing.assert_allclose(s.history["loss"], a.history["loss"], rtol=1e-5)
        np.testing.assert_allclose(s.history["val_loss"], a.history["val_loss"], rtol=1e-5)
    assert streams.test == pytest.approx(arrays.test, rel=1e-5)
    assert float(streams.model.optimizer.learning_rate) < 1e-9  # cosine steps counted from the stream's labels


def test_train_accepts_a_folder_source(folder):
    code, stdout, stderr = _run(["train", "lenet5", "--data", folder, "--epochs", 1])  # at its recipe's 32x32x1
    assert code == 0, stderr
    assert stdout.startswith(f"lenet5 on {folder}: ") and re.search(r"test accuracy=[01]\.\d{4}", stdout)
    assert re.search(r"test loss=\d+\.\d{4}", stdout)


@pytest.mark.parametrize("argv, message", [
    (["finetune", "{backbone}", "--data", "{folder}", "--image-size", "16", "--labels-per-class", "5"],
     "invalid labels_per_class=5: class 'circle' has only 4 training example"),
    (["finetune", "simple_cnnn", "--data", "digits"], "unknown model 'simple_cnnn'; did you mean simple_cnn"),
    (["finetune", "{folder}/missing.keras", "--data", "digits"], "model file '.*missing.keras' does not exist"),
    (["finetune", "{backbone}", "--data", "digits", "--epochs", "0"], r"finetune: invalid epochs=0; expected an"),
    (["predict", "{backbone}", "{folder}/circle/0.png", "{folder}/nope.png"], "image file '.*nope.png' does not exist"),
    (["predict", "{backbone}", "{folder}/circle/0.png", "--top", "0"], r"invalid --top=0; expected an integer >= 1"),
])
def test_bad_inputs_are_clear_errors_with_exit_code_2(argv, message, folder, backbone):
    code, stdout, stderr = _run([a.format(folder=folder, backbone=backbone) for a in argv])
    assert code == 2 and re.search(message, stderr), stderr
    assert stdout == ""


def test_a_file_that_is_not_an_image_names_itself(tmp_path, backbone):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match=r"could not read image file '.*notes.png'"):
        ft.predict_images(keras.saving.load_model(backbone), [bad])
