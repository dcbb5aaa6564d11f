"""Pretrained tags: offline-first lookup, hashes, downloads through keras.utils.get_file, bad files, errors.

No test touches the network: weights files are written in keras.applications' published format
(the legacy Keras HDF5 layout) from randomly initialised models into temporary folders.
"""

import dataclasses
import hashlib
import os
import time
import warnings

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

import zoo
from zoo.weights import pretrained as P
from zoo.weights.keras_applications import keras_app_model

SMALL = (32, 32, 3)
URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
TOP, NOTOP = "resnet50_weights_tf_dim_ordering_tf_kernels.h5", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty Keras home; downloads are off unless a test turns them on."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("DLZOO_OFFLINE", "1")
    monkeypatch.delenv("DLZOO_WEIGHTS_DIR", raising=False)
    return tmp_path / "keras" / "models"


def tag_resnet50(monkeypatch, top_hash=None, notop_hash=None):
    """Give resnet50 an ``imagenet`` tag with the given hashes (the published ones are for the real files)."""
    meta = zoo.registry._lookup("resnet50")
    tag = P.imagenet(URL, TOP, top_hash, NOTOP, notop_hash, input_size=224, top1=0.749, top5=0.921)
    monkeypatch.setitem(zoo.registry._REGISTRY, "resnet50", dataclasses.replace(meta, pretrained={"imagenet": tag}))
    return tag


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        value = rng.normal(0, 0.05, w.shape)
        w.assign((0.5 + np.abs(value) if "variance" in w.path else value).astype("float32"))
    P.finalize_state(model.layers)  # as Keras's loaders do: Normalization layers take their new mean and variance
    return model


def write_h5(model, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return str(path)


def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def resnet_files(tmp_path_factory):
    """keras.applications ResNet50 with random weights, saved as its top and notop files (32x32)."""
    folder = tmp_path_factory.mktemp("published")
    top = randomize(keras.applications.ResNet50(weights=None, input_shape=SMALL), 1)
    notop = randomize(keras.applications.ResNet50(weights=None, include_top=False, input_shape=SMALL), 2)
    return {"top": (top, write_h5(top, folder / TOP)), "notop": (notop, write_h5(notop, folder / NOTOP))}


def install(resnet_files, which, directory):
    os.makedirs(directory, exist_ok=True)
    src = resnet_files[which][1]
    dst = os.path.join(directory, os.path.basename(src))
    with open(src, "rb") as f, open(dst, "wb") as g:
        g.write(f.read())
    return dst


def outputs(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def test_found_in_the_keras_cache_loads_top_and_notop_exactly(home, monkeypatch, resnet_files):
    tag_resnet50(monkeypatch, md5(resnet_files["top"][1]), md5(resnet_files["notop"][1]))
    install(resnet_files, "top", home)
    install(resnet_files, "notop", home)
    x = np.random.default_rng(0).uniform(-1, 1, (2, *SMALL)).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matching hashes: no warning
        top = zoo.get("resnet50.imagenet", input_shape=SMALL)
        notop = zoo.get("resnet50", weights="imagenet", include_top=False, pooling="avg", input_shape=SMALL)
    assert np.max(np.abs(outputs(top, x) - outputs(resnet_files["top"][0], x))) <= 1e-5
    reference = keras.ops.mean(resnet_files["notop"][0](x), axis=(1, 2))
    assert np.max(np.abs(outputs(notop, x) - keras.ops.convert_to_numpy(reference))) <= 1e-5


def test_other_class_count_keeps_a_fresh_head_and_loads_the_rest(home, monkeypatch, resnet_files):
    tag_resnet50(monkeypatch)
    install(resnet_files, "top", home)
    model = zoo.get("resnet50.imagenet", num_classes=10, input_shape=SMALL)
    source = resnet_files["top"][0]
    np.testing.assert_array_equal(model.get_layer("conv5_block3_3_conv").get_weights()[0],
                                  source.get_layer("conv5_block3_3_conv").get_weights()[0])
    assert model.get_layer("predictions").get_weights()[0].shape == (2048, 10)


def test_weights_dir_and_env_folder_come_before_the_cache(home, tmp_path, monkeypatch, resnet_files):
    tag_resnet50(monkeypatch)
    mine = tmp_path / "mine"
    install(resnet_files, "notop", mine)
    assert P.find_or_fetch("resnet50", P.WeightsFile(NOTOP, URL + NOTOP), weights_dir=mine) == str(mine / NOTOP)
    monkeypatch.setenv("DLZOO_WEIGHTS_DIR", str(mine))
    assert P.search_dirs()[0] == str(mine) and P.search_dirs()[-1] == str(home)
    model = zoo.get("resnet50.imagenet", include_top=False, input_shape=SMALL)
    assert model.count_params() == resnet_files["notop"][0].count_params()


def test_a_hash_mismatch_warns_naming_the_file_or_fails_when_strict(home, monkeypatch, resnet_files):
    tag_resnet50(monkeypatch, notop_hash="0" * 32)
    path = install(resnet_files, "notop", home)
    with pytest.warns(RuntimeWarning, match=f"weights file '{path}' does not have the published hash 0{{32}}"):
        zoo.get("resnet50.imagenet", include_top=False, input_shape=SMALL)
    with pytest.raises(ValueError, match="does not have the published hash"):
        zoo.get("resnet50.imagenet", include_top=False, input_shape=SMALL, strict=True)


def test_missing_file_offline_is_a_quick_clear_error(home, monkeypatch, tmp_path):
    tag_resnet50(monkeypatch)
    start = time.perf_counter()
    with pytest.raises(FileNotFoundError) as err:
        zoo.get("resnet50.imagenet", include_top=False, input_shape=SMALL, weights_dir=tmp_path / "w")
    assert time.perf_counter() - start < 30
    message = str(err.value)
    assert NOTOP in message and str(home) in message and str(tmp_path / "w") in message
    assert URL + NOTOP in message and "DLZOO_OFFLINE" in message
    monkeypatch.delenv("DLZOO_OFFLINE")
    with pytest.raises(FileNotFoundError, match=r"downloads are off \(download=False\)"):
        zoo.get("resnet50.imagenet", include_top=False, input_shape=SMALL, download=False)


def test_downloads_go_through_get_file_and_never_leave_a_partial_file(home, monkeypatch, resnet_files):
    tag_resnet50(monkeypatch)
    monkeypatch.delenv("DLZOO_OFFLINE")
    calls = []

    def fetched(fname, origin, cache_dir, cache_subdir, file_hash):
        calls.append((fname, origin, file_hash))
        return install(resnet_files, "notop", os.path.join(cache_dir, cache_subdir))

    monkeypatch.setattr(keras.utils, "get_file", fetched)
    zoo.get("resnet50.imagenet", include_top=False, input_shape=SMALL)
    assert calls == [(NOTOP, URL + NOTOP, None)] and os.listdir(home) == [NOTOP]
    os.remove(home / NOTOP)

    def broken(fname, origin, cache_dir, cache_subdir, file_hash):
        with open(os.path.join(cache_dir, cache_subdir, fname), "wb") as f:
            f.write(b"half a file")
        raise OSError("connection reset")

    monkeypatch.setattr(keras.utils, "get_file", broken)
    with pytest.raises(FileNotFoundError, match=r"downloading it from .* failed \(OSError: connection reset\)"):
        zoo.get("resnet50.imagenet", include_top=False, input_shape=SMALL)
    assert os.listdir(home) == []


def test_a_truncated_file_names_the_file_and_leaves_the_model_unchanged(home, monkeypatch, resnet_files):
    tag = tag_resnet50(monkeypatch)
    path = install(resnet_files, "notop", home)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    model = zoo.get("resnet50", include_top=False, input_shape=SMALL)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=f"could not read weights file '{path}'"):
        P.load_pretrained(model, "resnet50", tag, dict(include_top=False, input_shape=SMALL))
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_file_of_another_architecture_is_refused_before_anything_is_assigned(home, monkeypatch, resnet_files):
    tag = tag_resnet50(monkeypatch)
    write_h5(randomize(keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=SMALL)),
             home / NOTOP)
    model = zoo.get("resnet50", include_top=False, input_shape=SMALL)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="not this architecture|does not fit the model"):
        P.load_pretrained(model, "resnet50", tag, dict(include_top=False, input_shape=SMALL))
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def toy_flat_head(input_shape=(16, 16, 3), num_classes=1000, include_top=True, classifier_activation="softmax"):
    """A conv, a flatten and a dense head: weights with the top fit one input size only (as VGG's)."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(4, 3, strides=2, name="block1_conv")(inputs)
    if include_top:
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, x, name="toy_flat_head")


@pytest.fixture
def toy_registered():
    tag = P.imagenet("https://example.invalid/", "toy.h5", None, "toy_notop.h5", None, input_size=16, top1=0.5)
    zoo.register("toy_flat_head", family="test", task="classification", min_input_shape=(8, 8, 3),
                 pretrained=(tag,))(toy_flat_head)
    yield
    del zoo.registry._REGISTRY["toy_flat_head"]


def test_include_top_with_an_input_size_the_weights_do_not_fit(home, toy_registered):
    write_h5(toy_flat_head(), home / "toy.h5")
    assert zoo.get("toy_flat_head.imagenet").count_params() == toy_flat_head().count_params()
    with pytest.raises(ValueError, match=r"invalid input_shape=\(12, 12, 3\) with include_top=True: .* fit "
                                         r"input_shape=\(16, 16, 3\) only"):
        zoo.get("toy_flat_head.imagenet", input_shape=(12, 12, 3))


def test_tags_are_data_in_the_registry(monkeypatch):
    tag_resnet50(monkeypatch)
    assert "resnet50.imagenet" in zoo.list_pretrained()
    matching = zoo.list_pretrained("resnet5*")
    assert "resnet50.imagenet" in matching and all(t.startswith("resnet5") for t in matching)
    info = zoo.info("resnet50.imagenet")["pretrained"]["imagenet"]
    assert info["notop_file"] == NOTOP and info["notop_url"] == URL + NOTOP and info["input_size"] == 224
    assert (info["top1"], info["top5"], info["source"]) == (0.749, 0.921, "keras.applications")


def test_bad_tags_and_weights_are_clear_errors(monkeypatch):
    tag_resnet50(monkeypatch)
    with pytest.raises(zoo.UnknownModelError, match=r"unknown pretrained tag 'resnet50.imagenet21k'; did you mean "
                                                    r"resnet50.imagenet\b"):
        zoo.get("resnet50.imagenet21k")
    with pytest.raises(ValueError, match=r"resnet18: invalid weights='imagenet': resnet18 has no 'imagenet' weights; "
                                         r"the models that have them: .*resnet50"):
        zoo.get("resnet18", weights="imagenet")
    with pytest.raises(ValueError, match=r"invalid weights='imagenet1k'; expected a path ending in .weights.h5 or "
                                         r".keras, or a pretrained tag \('fonts', 'imagenet'\)"):
        zoo.get("resnet50", weights="imagenet1k")
    with pytest.raises(ValueError, match="invalid weights='x.keras'"):
        zoo.get("resnet50.imagenet", weights="x.keras")


def test_decode_predictions_names_the_imagenet_classes_offline():
    probs = np.zeros((2, 1000), "float32")
    probs[0, [1, 2]] = (0.9, 0.1)
    probs[1, 999] = 1.0
    best = zoo.decode_predictions(probs, top=2)
    assert best[0] == [("n01443537", "goldfish", pytest.approx(0.9)), ("n01484850", "great_white_shark", pytest.approx(0.1))]
    assert best[1][0][:2] == ("n15075141", "toilet_tissue")
    with pytest.raises(ValueError, match=r"decode_predictions: invalid probs=.*expected an array of shape \(batch, 1000\)"):
        zoo.decode_predictions(np.zeros((1, 10)))
    with pytest.raises(ValueError, match="decode_predictions: invalid top=0"):
        zoo.decode_predictions(probs, top=0)


# --------------------------------------------------------------------------- every architecture


def _smallest_tagged_per_architecture():
    """One model per builder with ImageNet weights (VGG, ResNet, MobileNet v1/v2/v3, EfficientNet ...): its smallest."""
    best = {}
    for tagged in zoo.list_pretrained():
        name = tagged.rpartition(".")[0]
        meta = zoo.registry._lookup(name)
        if meta.keras_app and (meta.builder not in best or meta.params < best[meta.builder].params):
            best[meta.builder] = meta
    return sorted(meta.name for meta in best.values())


#: The smallest input whose file has a top, where keras.applications publishes one file per input size.
_TOP_SIDES = {"mobilenet": 128, "mobilenet_v2": 96}


def _side(name, include_top=False):
    return (include_top and _TOP_SIDES.get(name)) or max(32, zoo.info(name)["min_input_shape"][0])


@pytest.mark.parametrize("name", _smallest_tagged_per_architecture())
@pytest.mark.parametrize("include_top", [False, True])
def test_every_architecture_loads_keras_applications_files_exactly(name, include_top, home, tmp_path):
    meta = zoo.info(name)
    tag = zoo.registry._lookup(name).pretrained["imagenet"]
    side = _side(name, include_top)
    shape = (side, side, 3)
    source = randomize(keras_app_model(name, include_top=include_top, input_shape=shape))
    config = dict(meta["defaults"], include_top=include_top, input_shape=shape)
    wf = tag.file_for(config, include_top)
    write_h5(source, home / wf.name)
    with pytest.warns(RuntimeWarning, match="published hash") if wf.hash else warnings.catch_warnings():
        model = zoo.get(name, weights="imagenet", include_top=include_top, input_shape=shape)
    x = np.random.default_rng(0).uniform(0, 1, (2, *shape)).astype("float32")
    expected, got = outputs(source, x), outputs(model, x)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1e-5 * max(1.0, float(np.max(np.abs(expected))))


@pytest.mark.parametrize(
    "name, config, include_top",
    [
        ("mobilenet", dict(alpha=0.25, input_shape=(128, 128, 3)), False),
        ("mobilenet", dict(alpha=0.5, input_shape=(160, 160, 3)), True),
        ("mobilenet_v2", dict(alpha=0.35, input_shape=(96, 96, 3)), True),
        ("mobilenet_v2", dict(alpha=1.4, input_shape=(100, 100, 3)), False),
        ("mobilenet_v3_small", dict(alpha=0.75, input_shape=(224, 224, 3)), False),
        ("mobilenet_v3_large", dict(alpha=1.0, minimalistic=True, input_shape=(224, 224, 3)), True),
    ],
)
def test_config_dependent_files_are_the_ones_keras_applications_fetches(name, config, include_top, monkeypatch):
    """keras.applications chooses MobileNet files by width and input size: the tags choose the same."""
    import keras.src.applications as applications

    class Fetched(Exception):
        pass

    def get_file(fname=None, origin=None, *args, file_hash=None, **kwargs):
        raise Fetched(fname, origin, file_hash)

    module = getattr(applications, {"mobilenet": "mobilenet", "mobilenet_v2": "mobilenet_v2"}.get(name, "mobilenet_v3"))
    monkeypatch.setattr(module.file_utils, "get_file", get_file)
    with pytest.raises(Fetched) as fetched, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # keras warns that it falls back to the 224 file
        keras_app_model(name, weights="imagenet", include_top=include_top, **config)
    tag = zoo.registry._lookup(name).pretrained["imagenet"]
    wf = tag.file_for({**zoo.info(name)["defaults"], **config}, include_top)
    assert (wf.name, wf.url, wf.hash) == fetched.value.args


def test_preprocess_applies_the_input_mode_of_the_weights():
    images = np.array([[[[0, 128, 255]]]], "uint8")  # one 1x1 RGB image
    np.testing.assert_allclose(zoo.preprocess("resnet50", images).ravel(), [255 - 103.939, 128 - 116.779, 0 - 123.68],
                               atol=1e-4)  # caffe: BGR, mean subtracted
    np.testing.assert_allclose(zoo.preprocess("mobilenet_v2.imagenet", images).ravel(), [-1, 128 / 127.5 - 1, 1],
                               atol=1e-6)  # tf: [-1, 1]
    np.testing.assert_allclose(zoo.preprocess("densenet121", images).ravel(),
                               (np.array([0, 128, 255]) / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225], atol=1e-5)
    np.testing.assert_array_equal(zoo.preprocess("efficientnet_b0", images).ravel(), [0, 128, 255])  # rescales inside
    model = zoo.get("convnext_tiny", include_top=False, input_shape=(32, 32, 3),
                    depths=(1, 1, 1, 1), projection_dims=(8, 16, 24, 32))
    np.testing.assert_array_equal(zoo.preprocess(model, images).ravel(), [0, 128, 255])
    with pytest.raises(ValueError, match="preprocess: invalid name_or_model="):
        zoo.preprocess(keras.Sequential([keras.layers.Dense(2)]), images)
    with pytest.raises(ValueError, match=r"preprocess: invalid images='<array of shape \(3,\)>'"):
        zoo.preprocess("resnet50", np.zeros(3))
    with pytest.raises(zoo.UnknownModelError, match="unknown model 'resnet5'"):
        zoo.preprocess("resnet5", images)
