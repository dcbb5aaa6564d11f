"""The built-in fonts data set and the project's own pretrained weights (``simple_cnn.fonts``)."""

import os

import numpy as np
import pytest

import zoo
from zoo.data import fonts
from zoo.weights import pretrained


def test_fonts_are_deterministic_by_seed_and_stratified():
    splits = zoo.data.load("fonts", samples_per_class=8, seed=3)
    again = zoo.data.load("fonts", samples_per_class=8, seed=3)
    other = zoo.data.load("fonts", samples_per_class=8, seed=4)
    x, y = splits.train
    assert x.shape[1:] == (8, 8, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert splits.num_classes == 62 and splits.class_names == list(fonts.CHARACTERS)
    assert sum(splits.sizes().values()) == 62 * 8 and set(np.unique(y)) == set(range(62))
    np.testing.assert_array_equal(again.train[0], x)
    assert not np.array_equal(other.train[0], x)


def test_fonts_sizes_channels_and_class_sets():
    digits = zoo.data.load("fonts", classes="digits", image_size=16, channels=3, samples_per_class=7)
    assert digits.input_shape == (16, 16, 3) and digits.class_names == list("0123456789")
    assert zoo.data.load("fonts", classes="xyz", samples_per_class=7).class_names == ["x", "y", "z"]
    assert len(fonts.font_faces()) >= 20  # DejaVu, STIX and Computer Modern faces from matplotlib


def test_rendering_counts_4x4_blocks_like_the_optdigits_scans():
    image = fonts.render("7", face="DejaVuSans", image_size=8, seed=0, blur=0, noise=0)
    assert image.shape == (8, 8)
    np.testing.assert_allclose(image * 16, np.round(image * 16), atol=1e-5)  # "on" pixels per block / 16
    rows = np.flatnonzero(image.max(1) > 0)
    assert rows[-1] - rows[0] >= 6  # scaled to fill the box by its longer side
    assert not np.array_equal(image, fonts.render("7", face="cmtt10", image_size=8, seed=0, blur=0, noise=0))
    np.testing.assert_array_equal(image, fonts.render("7", face="DejaVuSans", image_size=8, seed=0, blur=0, noise=0))


@pytest.mark.parametrize("kwargs, message", [
    (dict(classes="aa"), r"invalid classes='aa'; expected one of \['all', 'digits', 'lower', 'upper'\]"),
    (dict(classes="#"), r"invalid classes='#'"),
    (dict(faces=["Comic Sans"]), r"invalid faces=\['Comic Sans'\]; expected a non-empty list of face names among"),
    (dict(image_size=2), r"invalid image_size=2; expected an integer >= 4"),
    (dict(samples_per_class=1), r"invalid samples_per_class=1; expected an integer >= 7"),
    (dict(channels=2), r"invalid channels=2; expected 1 or 3"),
    (dict(rotate=-1.0), r"invalid rotate=-1.0"),
])
def test_bad_fonts_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        zoo.data.load("fonts", **{"samples_per_class": 7, **kwargs})


def test_the_fonts_tag_records_how_it_was_made_and_ships_in_the_package():
    tag = zoo.info("simple_cnn")["pretrained"]["fonts"]
    assert tag["source"] == "dlzoo" and tag["class_names"] == list(fonts.CHARACTERS)
    assert tag["config"]["input_shape"] == (8, 8, 1)
    assert tag["training"]["command"].startswith("python scripts/pretrain_fonts.py")
    assert {"data", "seed", "fonts_test_accuracy", "digits_zero_shot_accuracy"} <= set(tag["training"])
    path = os.path.join(pretrained.PACKAGE_DIR, tag["top_file"])
    assert pretrained.file_hash(path, "sha256") == tag["top_hash"]
    shipped = sum(os.path.getsize(os.path.join(pretrained.PACKAGE_DIR, f)) for f in os.listdir(pretrained.PACKAGE_DIR))
    assert shipped <= 5_000_000  # all shipped weights together


def test_fonts_weights_read_digits_they_never_saw():
    model = zoo.get("simple_cnn.fonts", strict=True)  # strict: the file's hash must match
    assert model.input_shape == (None, 8, 8, 1) and model.output_shape == (None, 62)
    x, y = zoo.data.load("digits").test
    zero_shot = float((model.predict(x, verbose=0)[:, :10].argmax(1) == y).mean())
    assert zero_shot > 0.5  # measured 0.633 on this split; chance is 0.1
    backbone = zoo.get("simple_cnn", weights="fonts", include_top=False)
    np.testing.assert_array_equal(backbone.get_layer("block3_conv2").kernel.numpy(),
                                  model.get_layer("block3_conv2").kernel.numpy())


def test_h5_writer_round_trips_and_a_missing_package_file_says_how_to_remake_it(tmp_path, monkeypatch):
    model = zoo.get("simple_cnn", input_shape=(8, 8, 1), num_classes=4, filters=(4, 8))
    path = pretrained.write_h5_weights(model, str(tmp_path / "w.h5"))
    layers = pretrained.read_h5_weights(path)
    assert [n for n, _ in layers] == [la.name for la in model.layers if la.weights]
    for (_, arrays), layer in zip(layers, [la for la in model.layers if la.weights]):
        for a, w in zip(arrays, layer.weights):
            np.testing.assert_array_equal(a, w.numpy())
    monkeypatch.setattr(pretrained, "PACKAGE_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(FileNotFoundError, match=r"simple_cnn_fonts8.h5.*make it again with that command"):
        zoo.get("simple_cnn.fonts")
