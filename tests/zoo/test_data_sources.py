"""zoo.data.load on the user's data: image folders, .npz, CSV, keras.datasets' cache, tfds (tiny files in tmp_path)."""

import gzip
import os
import pickle

import numpy as np
import pytest

from zoo import data
from zoo.data.splits import Stream

FORMATS = ("png", "jpeg", "bmp", "gif")


def _image(path, size=(8, 8), value=None, seed=0, mode="RGB"):
    from PIL import Image

    rng = np.random.default_rng(seed)
    shape = (*size, 3) if mode == "RGB" else size
    pixels = np.full(shape, value, np.uint8) if value is not None else rng.integers(0, 256, shape, dtype=np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fmt = os.path.splitext(path)[1][1:].upper()
    Image.fromarray(pixels, mode).save(path, "JPEG" if fmt == "JPG" else fmt)
    return pixels


def _folder(root, classes=("cat", "dog", "owl"), per_class=6, size=(8, 8)):
    """``per_class`` images per class, cycling through PNG/JPEG/BMP/GIF; each class a flat colour."""
    for c, name in enumerate(classes):
        for i in range(per_class):
            _image(os.path.join(root, name, f"{i:02d}.{FORMATS[i % 4]}"), size=size, value=40 * c + 20)
    return str(root)


def _files(stream):
    return sorted(stream.paths)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _folder(tmp_path_factory.mktemp("imgs"))


def test_folder_classes_stratified_split_and_decoding(folder):
    splits = data.load(folder, seed=0)
    assert splits.class_names == ["cat", "dog", "owl"] and splits.num_classes == 3
    assert all(isinstance(p, Stream) for p in splits)
    assert splits.sizes() == {"train": 12, "val": 3, "test": 3}  # per class of 6: round(0.9)=1 val, round(1.2)=1 test
    for split in ("train", "val", "test"):
        counts = np.bincount(splits.labels(split), minlength=3)
        assert len(set(counts)) == 1  # stratified: every class the same count
    x, y = splits.arrays("test")
    assert x.shape == (3, 8, 8, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    # Flat colours survive every format (JPEG within a few levels): class c has value 40c+20.
    np.testing.assert_allclose(x.mean(axis=(1, 2, 3)), (40 * y + 20) / 255, atol=3 / 255)
    xb, yb = next(iter(splits.dataset("train", batch_size=5)))
    assert xb.shape == (5, 8, 8, 3) and yb.dtype.name == "int32"


def test_folder_split_is_deterministic_by_seed(folder):
    a, b, c = (data.load(folder, seed=s) for s in (0, 0, 1))
    assert _files(a.test) == _files(b.test) and _files(a.val) == _files(b.val)
    assert _files(a.test) != _files(c.test)
    train = set(_files(a.train))
    assert not train & set(_files(a.val)) and not train & set(_files(a.test))


def test_folder_resize_channels_and_keras_parity(folder):
    import keras

    splits = data.load(folder, image_size=(12, 10), channels=1)
    assert splits.input_shape == (12, 10, 1)
    x, _ = splits.arrays("train")
    assert x.shape == (12, 12, 10, 1)
    # Same resize and class order as keras.utils.image_dataset_from_directory (values there in [0, 255]).
    ours = data.load(folder, image_size=16, val_fraction=0.01, test_fraction=0.01)
    assert ours.sizes()["train"] == 18
    x_ours, y_ours = ours.dataset("train", batch_size=18, shuffle=False).get_single_element()
    peer = keras.utils.image_dataset_from_directory(folder, image_size=(16, 16), batch_size=18, shuffle=False,
                                                     verbose=False)
    x_peer, y_peer = peer.get_single_element()
    assert peer.class_names == ours.class_names
    np.testing.assert_array_equal(y_ours, y_peer)
    np.testing.assert_allclose(x_ours, x_peer / 255.0, atol=1e-6)


def test_folder_shuffle_cache_and_labels_per_class(folder, tmp_path):
    splits = data.load(folder, cache=str(tmp_path / "cache"))
    labels = splits.labels("train")
    ds = splits.dataset("train", batch_size=12, shuffle=True, seed=3)
    first, second = (ds.get_single_element()[1].numpy() for _ in range(2))
    assert sorted(first) == sorted(labels) and not np.array_equal(first, second)  # reshuffled each pass
    assert any(f.endswith(".index") for f in os.listdir(tmp_path / "cache"))
    few = splits.with_labels_per_class(2, seed=0)
    assert isinstance(few.train, Stream) and list(np.bincount(few.labels("train"))) == [2, 2, 2]
    x, y = few.arrays("train")
    assert x.shape == (6, 8, 8, 3) and list(y) == list(few.labels("train"))


def test_folder_with_train_and_test_subfolders(tmp_path):
    _folder(tmp_path / "train", per_class=10)
    _folder(tmp_path / "test", classes=("cat", "dog"), per_class=2)
    splits = data.load(str(tmp_path), val_fraction=0.2)
    assert splits.class_names == ["cat", "dog", "owl"]
    assert splits.sizes() == {"train": 24, "val": 6, "test": 4}  # val carved from train; test as given
    assert list(splits.labels("test")) == [0, 0, 1, 1]


def test_folder_sizes_must_agree_without_image_size(tmp_path):
    _folder(tmp_path)
    _image(str(tmp_path / "owl" / "big.png"), size=(9, 8))
    with pytest.raises(ValueError, match=r"differ in size: .* is 8x8, .*big.png' is 9x8 .*pass image_size="):
        data.load(str(tmp_path))
    assert data.load(str(tmp_path), image_size=8).sizes()["train"] == 13


@pytest.mark.parametrize(
    "layout, pattern",
    [
        ({}, r"image folder '.*' has no class subfolders; expected one subfolder"),
        ({"cat": 3}, r"has a single class subfolder 'cat'; expected at least 2 classes"),
        ({"cat": 3, "dog": 0}, r"class subfolder 'dog' of image folder '.*' holds no images"),
        ({"train/cat": 3, "train/dog": 3, "test/cow": 1}, r"class subfolder 'cow' of .* not a class of the train split"),
        ({"cat": 3, "dog": 3, "dog/bad.jpg": "<html>"}, r"1 image file\(s\) are not readable .*bad.jpg"),
    ],
)
def test_folder_bad_input(tmp_path, layout, pattern):
    for rel, what in layout.items():
        if isinstance(what, str):
            (tmp_path / rel).write_text(what)
            continue
        os.makedirs(tmp_path / rel, exist_ok=True)
        for i in range(what):
            _image(str(tmp_path / rel / f"{i}.png"))
    with pytest.raises(ValueError, match=pattern):
        data.load(str(tmp_path))


def test_folder_bad_files_skipped_or_found_by_decoding(tmp_path):
    _folder(tmp_path, classes=("a", "b"), per_class=4)
    (tmp_path / "a" / "zero.png").write_bytes(b"")
    with pytest.warns(RuntimeWarning, match=r"skipping 1 unreadable image file\(s\): .*zero.png"):
        assert sum(data.load(str(tmp_path), bad_files="skip").sizes().values()) == 8
    os.remove(tmp_path / "a" / "zero.png")
    _image(str(tmp_path / "noise.png"))  # random pixels: a PNG of about 270 bytes
    (tmp_path / "b" / "cut.png").write_bytes((tmp_path / "noise.png").read_bytes()[:100])  # header fine, data cut
    data.load(str(tmp_path))  # the header check passes it
    with pytest.raises(ValueError, match=r"1 image file\(s\) could not be decoded .*cut.png"):
        data.load(str(tmp_path), verify="decode")


def test_folder_argument_errors(folder):
    with pytest.raises(ValueError, match=r"invalid channels=4; expected one of 1, 3"):
        data.load(folder, channels=4)
    with pytest.raises(ValueError, match=r"invalid image_size=0; expected a positive integer"):
        data.load(folder, image_size=0)
    with pytest.raises(ValueError, match=r"unknown argument 'cahce' .*did you mean cache\?"):
        data.load(folder, cahce=False)


# --------------------------------------------------------------------------- .npz and CSV


def test_npz_keras_layout_and_plain_xy(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mine.npz"
    np.savez(path, x_train=rng.integers(0, 256, (40, 6, 6), dtype=np.uint8), y_train=np.arange(40) % 4,
             x_test=np.full((8, 6, 6), 255, np.uint8), y_test=np.arange(8) % 4)
    splits = data.load(str(path), val_fraction=0.2, seed=1)
    assert splits.sizes() == {"train": 32, "val": 8, "test": 8} and splits.class_names == ["0", "1", "2", "3"]
    x, y = splits.train
    assert x.shape == (32, 6, 6, 1) and x.dtype == np.float32 and x.max() <= 1
    assert np.all(splits.test[0] == 1.0)
    assert list(np.bincount(splits.val[1])) == [2, 2, 2, 2]  # stratified: 2 of each class's 10
    resized = data.load(str(path), image_size=12, channels=3)
    assert resized.input_shape == (12, 12, 3)
    np.savez(tmp_path / "xy.npz", x=rng.normal(size=(30, 5)).astype("float32"), y=np.array(["b", "a", "c"] * 10))
    table = data.load(str(tmp_path / "xy.npz"))
    assert table.class_names == ["a", "b", "c"] and table.input_shape == (5,) and sum(table.sizes().values()) == 30


def test_npz_resized_beyond_the_memory_limit_streams(tmp_path, monkeypatch):
    from zoo.data import sources

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "big.npz", x=rng.integers(0, 256, (20, 5, 5, 3), dtype=np.uint8), y=np.arange(20) % 2)
    in_memory = data.load(str(tmp_path / "big.npz"), image_size=7)
    monkeypatch.setattr(sources, "ARRAYS_IN_MEMORY_BYTES", 1000)
    streamed = data.load(str(tmp_path / "big.npz"), image_size=7)
    assert isinstance(streamed.train, Stream) and streamed.input_shape == (7, 7, 3)
    x, y = streamed.arrays("test")
    np.testing.assert_allclose(x, in_memory.test[0], atol=1e-6)
    np.testing.assert_array_equal(y, in_memory.test[1])


def test_npz_missing_keys(tmp_path):
    np.savez(tmp_path / "odd.npz", images=np.zeros((2, 4, 4)), targets=np.zeros(2))
    with pytest.raises(ValueError, match=r"holds arrays \['images', 'targets'\]; expected x and y, or x_train, y_train"):
        data.load(str(tmp_path / "odd.npz"))
    np.savez(tmp_path / "half.npz", x_train=np.zeros((4, 4, 4)), y_train=np.zeros(4, int), x_test=np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match=r"has x_test without y_test"):
        data.load(str(tmp_path / "half.npz"))


def test_csv_target_classes_and_split(tmp_path):
    lines = ["a,b,kind"] + [f"{i},{i * 0.5},{'setosa' if i % 2 else 'virginica'}" for i in range(20)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    splits = data.load(str(tmp_path / "t.csv"), seed=2)
    assert splits.class_names == ["setosa", "virginica"] and splits.input_shape == (2,)
    assert splits.sizes() == {"train": 12, "val": 4, "test": 4}
    x, y = splits.train
    assert x.dtype == np.float32 and np.allclose(x[:, 1], x[:, 0] * 0.5)
    assert np.all((x[:, 0] % 2 == 1) == (y == 0))  # odd rows are setosa = class 0
    (tmp_path / "n.csv").write_text("\n".join(["a,b"] + [f"{i % 12},{i}" for i in range(24)]))
    numeric = data.load(str(tmp_path / "n.csv"), target="a", val_fraction=0.01, test_fraction=0.01)
    assert numeric.class_names[:3] == ["0", "1", "2"] and numeric.class_names[-1] == "11"  # sorted as numbers


def test_csv_errors(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,kind\n1,2,x\n3,4,y\n")
    with pytest.raises(ValueError, match=r"invalid target='label'; expected a column of .*\['a', 'b', 'kind'\]"):
        data.load(str(tmp_path / "t.csv"), target="label")
    (tmp_path / "s.csv").write_text("color,kind\nred,x\nblue,y\n")
    with pytest.raises(ValueError, match=r"column 'color' holds 'red' at line 2; expected numbers"):
        data.load(str(tmp_path / "s.csv"))


# --------------------------------------------------------------------------- keras.datasets' cache


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("DLZOO_OFFLINE", "1")
    os.makedirs(tmp_path / "datasets")
    return tmp_path / "datasets"


def _idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_and_fashion_from_the_cache(keras_home):
    y = np.arange(40) % 10
    np.savez(keras_home / "mnist.npz", x_train=np.full((40, 28, 28), 255, np.uint8), y_train=y.astype(np.uint8),
             x_test=np.zeros((10, 28, 28), np.uint8), y_test=np.arange(10, dtype=np.uint8))
    splits = data.load("mnist", val_fraction=0.25)
    assert splits.class_names == [str(i) for i in range(10)] and splits.input_shape == (28, 28, 1)
    assert splits.sizes() == {"train": 30, "val": 10, "test": 10}  # test as published, val from train
    assert np.all(splits.train[0] == 1.0) and list(np.bincount(splits.val[1])) == [1] * 10
    os.makedirs(keras_home / "fashion-mnist")
    for part, n in (("train", 20), ("t10k", 10)):
        _idx(keras_home / "fashion-mnist" / f"{part}-images-idx3-ubyte.gz", np.zeros((n, 28, 28)))
        _idx(keras_home / "fashion-mnist" / f"{part}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    fashion = data.load("fashion_mnist", image_size=14, channels=3)
    assert fashion.class_names[0] == "T-shirt/top" and fashion.input_shape == (14, 14, 3)
    assert fashion.sizes()["test"] == 10


def test_cifar_pickles_from_the_cache(keras_home):
    def batch(path, n, key="labels", value=0):
        with open(path, "wb") as f:
            pickle.dump({b"data": np.full((n, 3072), value, np.uint8), key.encode(): [i % 10 for i in range(n)]}, f)

    root = keras_home / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    os.makedirs(root)
    for i in range(1, 6):
        batch(root / f"data_batch_{i}", 10, value=51)
    batch(root / "test_batch", 10)
    splits = data.load("cifar10")
    assert splits.class_names[:2] == ["airplane", "automobile"] and splits.input_shape == (32, 32, 3)
    assert splits.sizes()["test"] == 10 and sum(splits.sizes().values()) == 60
    assert np.allclose(splits.train[0], 0.2)
    old = keras_home / "cifar-100-python"  # the tf.keras layout, with the meta file's names
    os.makedirs(old)
    for name in ("train", "test"):
        batch(old / name, 20, key="fine_labels")
    with open(old / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [f"f{i}".encode() for i in range(100)]}, f)
    fine = data.load("cifar100")
    assert fine.class_names[:3] == ["f0", "f1", "f2"] and fine.num_classes == 100


def test_keras_dataset_missing_is_quick_and_says_how(keras_home):
    with pytest.raises(FileNotFoundError, match=r"mnist: keras.datasets file 'mnist.npz' not found in .*datasets.*"
                                                 r"download=True"):
        data.load("mnist")
    with pytest.raises(FileNotFoundError, match=r"downloads are off \(DLZOO_OFFLINE is set\)"):
        data.load("cifar10", download=True)
    with pytest.raises(ValueError, match=r"invalid label_mode='coarse'; expected None for mnist"):
        data.load("mnist", label_mode="coarse")


# --------------------------------------------------------------------------- names, tfds


def test_unknown_names_and_files(tmp_path):
    with pytest.raises(ValueError, match=r"unknown dataset name='mnsit' \(did you mean mnist\?\); expected one of "
                                         r"\[.*'digits'.*\], a folder of images, a .npz or .csv file, .*tfds:NAME"):
        data.load("mnsit")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match=r"a folder of images, a .npz or a .csv file \(this file ends in '.txt'\)"):
        data.load(str(tmp_path / "notes.txt"))


def test_tfds_missing_or_not_prepared(tmp_path):
    try:
        import tensorflow_datasets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install dlzoo\[tfds\]"):
            data.load("tfds:mnist", data_dir=str(tmp_path))
        return
    with pytest.raises(FileNotFoundError, match=r"'mnist' is not prepared in data_dir='.*'.*tfds build mnist --data_dir"):
        data.load("tfds:mnist", data_dir=str(tmp_path))


def test_tfds_prepared_set(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")

    class TinyShapes(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, supervised_keys=("image", "label"), features=tfds.features.FeaturesDict(
                {"image": tfds.features.Image(shape=(6, 6, 1)), "label": tfds.features.ClassLabel(names=["dot", "bar"])}))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(20), "test": self._generate_examples(4)}

        def _generate_examples(self, n):
            for i in range(n):
                yield i, {"image": np.full((6, 6, 1), 255 * (i % 2), np.uint8), "label": i % 2}

    TinyShapes(data_dir=str(tmp_path)).download_and_prepare()
    splits = data.load("tfds:tiny_shapes", data_dir=str(tmp_path), val_fraction=0.2, channels=3, image_size=4)
    assert splits.class_names == ["dot", "bar"] and splits.sizes() == {"train": 16, "val": 4, "test": 4}
    x, y = splits.arrays("val")
    assert x.shape == (4, 4, 4, 3) and np.allclose(x.mean(axis=(1, 2, 3)), y)
    assert list(splits.labels("val")) == list(y)
