"""Pretrained weights by tag, offline first: ``zoo.get("resnet50", weights="imagenet")``.

A family file declares its tags as data (:class:`Pretrained`: the published file
with and without the top, its URL and hash, the input size and the ImageNet
figures keras.applications documents), the way timm's ``default_cfgs`` do.
:func:`load_pretrained` then finds the file keras.applications publishes, under
the same name:

1. in ``weights_dir=``, in ``$DLZOO_WEIGHTS_DIR`` and in the Keras cache
   (``$KERAS_HOME/models``, default ``~/.keras/models``), without touching the
   network; its hash is checked against the published one (a mismatch is a
   warning naming the file, or an error with ``strict=True``);
2. otherwise it is fetched through ``keras.utils.get_file`` with the published URL
   and hash, the call keras.applications makes, into a temporary folder and then
   moved into the Keras cache (never a partial file there), unless downloads are
   off (``download=False`` or ``DLZOO_OFFLINE=1``): then, and when the download
   fails, a ``FileNotFoundError`` names the file, the folders searched and the URL.

The file is keras.applications' legacy HDF5 weights layout. Its arrays are read
first and paired with the zoo model's weighted layers in order (the zoo families
are built layer for layer like keras.applications'); a missing, corrupt or
mismatched file raises and leaves the model unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import socket
import tempfile
import warnings
from collections.abc import Callable

import numpy as np

from zoo.core.naming import HEAD

log = logging.getLogger("zoo")

__all__ = ["WeightsFile", "Pretrained", "imagenet", "keras_h5_tags", "packaged", "PACKAGE_DIR", "keras_cache_dir",
           "search_dirs", "find_or_fetch", "read_h5_weights", "write_h5_weights", "load_pretrained", "finalize_state",
           "DOWNLOAD_TIMEOUT"]

#: Seconds a stalled download may wait for the network before it fails.
DOWNLOAD_TIMEOUT = 30.0


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    """One published weights file: keras.applications' file name, its URL and its hash."""

    name: str
    url: str
    hash: str | None = None  # md5 (32 hex digits) or sha256 (64), as keras.utils.get_file takes it


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """A pretrained tag of a model: where its weights come from and what they reach."""

    tag: str
    top: WeightsFile | None  # the file with the classification top
    notop: WeightsFile | None  # the ``_notop`` file (the backbone)
    input_size: int  # the resolution the weights were trained and evaluated at
    num_classes: int = 1000
    top1: float | None = None  # ImageNet validation accuracy keras.applications documents
    top5: float | None = None
    source: str = "keras.applications"
    #: ``files(config, include_top) -> WeightsFile`` for families whose file depends on the
    #: configuration (MobileNet's alpha and input size); ``top``/``notop`` are then the defaults.
    files: Callable | None = dataclasses.field(default=None, repr=False, compare=False)
    #: Builder arguments the weights were trained with, the defaults of ``zoo.get(name, weights=tag)``
    #: (the project's own small backbones: input shape, channels, widths).
    config: dict = dataclasses.field(default_factory=dict, compare=False)
    class_names: tuple | None = None  # what the top's outputs mean, when not ImageNet's
    #: How the weights were made (command, data, seed, figures): the project's own weights record it.
    training: dict = dataclasses.field(default_factory=dict, compare=False)

    def file_for(self, config: dict, include_top: bool) -> WeightsFile | None:
        if self.files is not None:
            return self.files(config, include_top)
        return self.top if include_top else self.notop

    def as_dict(self) -> dict:
        out = {
            "source": self.source,
            "input_size": self.input_size,
            "num_classes": self.num_classes,
            "top1": self.top1,
            "top5": self.top5,
        }
        for which, wf in (("top", self.top), ("notop", self.notop)):
            out[f"{which}_file"] = wf.name if wf else None
            out[f"{which}_url"] = wf.url if wf else None
            out[f"{which}_hash"] = wf.hash if wf else None
        out["depends_on_config"] = self.files is not None
        if self.config:
            out["config"] = dict(self.config)
        if self.class_names:
            out["class_names"] = list(self.class_names)
        if self.training:
            out["training"] = dict(self.training)
        return out


def imagenet(base_url, top_file, top_hash, notop_file, notop_hash, input_size=224, top1=None, top5=None, files=None):
    """The ``imagenet`` tag of a keras.applications file pair under ``base_url``."""
    return Pretrained(
        tag="imagenet",
        top=WeightsFile(top_file, base_url + top_file, top_hash) if top_file else None,
        notop=WeightsFile(notop_file, base_url + notop_file, notop_hash) if notop_file else None,
        input_size=input_size,
        top1=top1,
        top5=top5,
        files=files,
    )


def keras_h5_tags(base_url, stem, top_hash, notop_hash, top1=None, top5=None, input_size=224) -> tuple:
    """``pretrained=`` for keras.applications' ``<stem>_weights_tf_dim_ordering_tf_kernels.h5`` / ``_notop.h5``
    pair under ``base_url`` (the naming of VGG, ResNet, ResNetV2, InceptionV3, Xception, DenseNet ...)."""
    files = f"{stem}_weights_tf_dim_ordering_tf_kernels"
    return (imagenet(base_url, f"{files}.h5", top_hash, f"{files}_notop.h5", notop_hash, input_size=input_size,
                     top1=top1, top5=top5),)


def packaged(tag, file, sha256, input_size, num_classes, config, training, class_names=None, top1=None):
    """A tag of the project's own weights: ``file`` ships in ``zoo/weights/files`` (one file with
    the top; without the top the head's arrays are left out), made by ``training["command"]``."""
    wf = WeightsFile(file, f"dlzoo package file zoo/weights/files/{file} (made by: {training['command']})", sha256)
    return Pretrained(tag=tag, top=wf, notop=wf, input_size=input_size, num_classes=num_classes, top1=top1,
                      source="dlzoo", config=dict(config), class_names=tuple(class_names) if class_names else None,
                      training=dict(training))


def write_h5_weights(model, path):
    """Write ``model``'s weights in the legacy Keras HDF5 layout :func:`read_h5_weights` reads
    (keras.applications' files): one group per layer with weights, in the model's layer order."""
    import h5py

    from zoo.core.io import atomic_path

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        layers = [layer for layer in model.layers if layer.weights]
        f.attrs["layer_names"] = [layer.name.encode("utf8") for layer in layers]
        for layer in layers:
            group = f.create_group(layer.name)
            names = [f"{layer.name}/{w.path.split('/')[-1]}:{i}" for i, w in enumerate(layer.weights)]
            group.attrs["weight_names"] = [n.encode("utf8") for n in names]
            for n, w in zip(names, layer.weights):
                group.create_dataset(n, data=np.asarray(w.numpy()))
    return path


# --------------------------------------------------------------------------- finding the file

#: The project's own weights, shipped inside the package (searched before the Keras cache).
PACKAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")


def keras_cache_dir() -> str:
    """Where Keras caches weights: ``$KERAS_HOME/models``, else ``~/.keras/models`` (``/tmp`` if not writable)."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return os.path.join(home, "models")


def search_dirs(weights_dir=None) -> list[str]:
    """The folders looked in, in order: ``weights_dir``, ``$DLZOO_WEIGHTS_DIR``, the package's, the Keras cache."""
    dirs = [os.fspath(weights_dir)] if weights_dir else []
    if os.environ.get("DLZOO_WEIGHTS_DIR"):
        dirs.append(os.environ["DLZOO_WEIGHTS_DIR"])
    dirs += [PACKAGE_DIR, keras_cache_dir()]
    seen: dict[str, None] = {}
    for d in dirs:
        seen.setdefault(os.path.abspath(os.path.expanduser(d)), None)
    return list(seen)


def _offline(download) -> str | None:
    """Why downloads are off, or None when they are on."""
    if download is False:
        return "download=False"
    if os.environ.get("DLZOO_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return "DLZOO_OFFLINE is set"
    return None


def file_hash(path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_ok(path, expected: str | None) -> bool:
    if not expected:
        return True
    algorithm = "sha256" if len(expected) == 64 else "md5"
    return file_hash(path, algorithm) == expected.lower()


def find_or_fetch(owner: str, wf: WeightsFile, weights_dir=None, download=None, strict=False) -> str:
    """The local path of ``wf``: found in :func:`search_dirs`, else fetched into the Keras cache."""
    dirs = search_dirs(weights_dir)
    for directory in dirs:
        path = os.path.join(directory, wf.name)
        if os.path.isfile(path):
            if not _hash_ok(path, wf.hash):
                message = (f"{owner}: weights file {path!r} does not have the published hash {wf.hash} "
                           f"(modified or truncated?); get it again from {wf.url}")
                if strict:
                    raise ValueError(message)
                warnings.warn(message, RuntimeWarning, stacklevel=3)
            return path
    searched = ", ".join(dirs)
    why = _offline(download)
    if not wf.url.startswith(("http://", "https://")):
        raise FileNotFoundError(f"{owner}: weights file {wf.name!r} not found in {searched}; it is a {wf.url}: "
                                "reinstall dlzoo, or make it again with that command")
    if why:
        raise FileNotFoundError(
            f"{owner}: weights file {wf.name!r} not found in {searched} and downloads are off ({why}); "
            f"download it from {wf.url} into one of those folders, or pass weights_dir="
        )
    return _fetch(owner, wf, searched)


def _fetch(owner, wf, searched) -> str:
    """Download ``wf`` with ``keras.utils.get_file`` into a temporary folder, then move it into the cache."""
    import keras

    cache = keras_cache_dir()
    os.makedirs(cache, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".dlzoo-download-", dir=cache)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        got = keras.utils.get_file(wf.name, wf.url, cache_dir=staging, cache_subdir="", file_hash=wf.hash)
        target = os.path.join(cache, wf.name)
        os.replace(got, target)
        return target
    except Exception as err:  # urllib, socket and hash errors: all mean "not fetched"
        raise FileNotFoundError(
            f"{owner}: weights file {wf.name!r} not found in {searched}, and downloading it from {wf.url} "
            f"failed ({type(err).__name__}: {err}); download it by hand into one of those folders"
        ) from err
    finally:
        socket.setdefaulttimeout(previous)
        shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------- reading and assigning


def read_h5_weights(path) -> list[tuple[str, list[np.ndarray]]]:
    """``[(layer name, [arrays])]`` of the layers with weights in a legacy Keras HDF5 weights file."""
    import h5py

    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        layers = []
        for raw in root.attrs["layer_names"]:
            name = raw.decode("utf8") if isinstance(raw, bytes) else str(raw)
            group = root[name]
            names = [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in group.attrs["weight_names"]]
            if names:
                layers.append((name, [np.asarray(group[n]) for n in names]))
    return layers


def _fit(value, variable):
    """``value`` shaped like ``variable``: a 1x1 conv classifier fits a Dense by a reshape; else None."""
    shape = tuple(variable.shape)
    if value.shape == shape:
        return value
    if value.size == int(np.prod(shape)) and value.shape[-1] == shape[-1]:
        return value.reshape(shape)
    return None


def _pairs(model, layers, skip_head):
    """Pair the model's weighted layers with the file's, in order (the head and the file's classifier dropped)."""
    ours = [layer for layer in model.layers if layer.weights]
    if skip_head:
        ours = [layer for layer in ours if layer.name != HEAD]
        layers = layers[:-1]
    return ours, layers


def load_pretrained(model, owner: str, tag: Pretrained, config: dict, weights_dir=None, download=None,
                    strict=False) -> str:
    """Load ``tag``'s weights into ``model`` all-or-nothing; return the file's path.

    ``config`` holds the arguments the model was built with (``include_top``,
    ``num_classes``, ``input_shape``, ``features`` ...). A top with another class
    count is kept freshly initialised (the backbone and any dense top layers load).
    """
    include_top = bool(config.get("include_top", True)) and not config.get("features", False)
    wf = tag.file_for(config, include_top)
    if wf is None:
        raise ValueError(f"{owner}: the {tag.tag!r} weights have no file {'with' if include_top else 'without'} "
                         f"the top; pass include_top={not include_top}")
    path = find_or_fetch(owner, wf, weights_dir, download, strict)
    try:
        layers = read_h5_weights(path)
    except Exception as err:  # h5py raises many types for a truncated or foreign file
        raise ValueError(f"{owner}: could not read weights file {path!r} ({type(err).__name__}: {err}); "
                         f"delete it and get it again from {wf.url}") from err
    skip_head = include_top and config.get("num_classes", tag.num_classes) != tag.num_classes
    ours, theirs = _pairs(model, layers, skip_head)
    if len(theirs) < len(ours):
        raise ValueError(f"{owner}: weights file {path!r} holds {len(theirs)} layers with weights, the model "
                         f"{len(ours)}: not this architecture")
    updates = []
    for layer, (name, arrays) in zip(ours, theirs):
        if len(arrays) != len(layer.weights):
            raise ValueError(f"{owner}: layer {name!r} of {path!r} holds {len(arrays)} arrays, layer "
                             f"{layer.name!r} of the model {len(layer.weights)}: not this architecture")
        for value, variable in zip(arrays, layer.weights):
            fitted = _fit(value, variable)
            if fitted is None:
                raise ValueError(_mismatch(owner, tag, config, include_top, path, name, value, variable))
            updates.append((variable, fitted))
    for variable, value in updates:
        variable.assign(value)
    finalize_state(ours)
    if skip_head:
        log.info("%s: %s weights loaded from %s; head %r kept freshly initialised for %d classes",
                 owner, tag.tag, path, HEAD, config.get("num_classes"))
    return path


def finalize_state(layers):
    """What Keras's own loaders do after assigning: layers holding derived state (Normalization's
    mean and variance tensors) recompute it from their loaded variables."""
    for layer in layers:
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()


def _mismatch(owner, tag, config, include_top, path, name, value, variable) -> str:
    shape = tuple(config.get("input_shape") or ())
    required = (tag.input_size, tag.input_size, 3)
    if include_top and shape and tuple(shape) != required:
        return (f"{owner}: invalid input_shape={shape} with include_top=True: the {tag.tag!r} weights with the "
                f"top fit input_shape={required} only (layer {name!r} holds {value.shape}, the model's "
                f"{tuple(variable.shape)}); pass input_shape={required}, or include_top=False for other sizes")
    return (f"{owner}: weights file {path!r} does not fit the model: array of layer {name!r} has shape "
            f"{value.shape}, the model's {variable.path!r} {tuple(variable.shape)}")
