"""Local weights files (``.weights.h5``, ``.keras``) loaded all-or-nothing, with head swap.

``zoo.get(name, weights=path)`` and :func:`load_weights` read the file into a twin
of the model first, so a missing, corrupt or mismatched file raises and leaves the
model unchanged. Layers of the classification head whose shapes differ are
skipped and logged, which is how a head is swapped for a new class count.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable

from zoo.core.checks import check_model, check_path, fail
from zoo.core.naming import HEAD_LAYER_NAMES

log = logging.getLogger("zoo")

__all__ = ["load_weights", "check_weights_path"]


def check_weights_path(name, path):
    path = os.fspath(path)
    if not (path.endswith(".weights.h5") or path.endswith(".keras")):
        fail("weights", path, "a path ending in .weights.h5 or .keras", owner=name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{name}: weights file {path!r} does not exist")


def load_weights(model, path, rebuild: Callable | None = None, allow_head_mismatch: bool = True):
    """Load a local weights file into ``model`` all-or-nothing.

    The file is first read into a twin built by ``rebuild`` (or a clone), so a
    missing, corrupt or mismatched file raises and leaves ``model`` unchanged.
    Layers of the classification head (``HEAD_LAYER_NAMES``) whose shapes differ
    are skipped and logged, which is how a head is swapped for a new class count.
    Returns the names of the skipped layers.
    """
    from keras.src.saving import saving_lib

    check_model("model", model, "load_weights")
    check_path("path", path, "load_weights", accepted="a path to a .weights.h5 or .keras file")
    if rebuild is not None and not callable(rebuild):
        fail("rebuild", rebuild, "None or a zero-argument callable that builds a twin of the model", "load_weights",
             error=TypeError)
    path = os.fspath(path)
    check_weights_path(model.name, path)
    twin = rebuild() if rebuild is not None else _clone(model)
    failed: dict = {}
    try:
        _read_weights_into(twin, path, failed, saving_lib)
    except Exception as err:  # h5py/zipfile raise many types for a bad file
        raise ValueError(f"could not read weights file {path!r}: {err}") from err
    extra = _count_arrays(path) - len(twin.weights)
    if extra > 0:
        raise ValueError(
            f"weights file {path!r} does not match model {model.name!r}: it holds {extra} more "
            f"weight array(s) than the model's {len(twin.weights)} (saved from a larger model?)"
        )
    failed_layers = sorted({getattr(obj, "name", str(obj)) for obj, _ in failed.values()})
    bad = [n for n in failed_layers if not (allow_head_mismatch and n in HEAD_LAYER_NAMES)]
    if bad:
        first = next(err for obj, err in failed.values() if getattr(obj, "name", None) == bad[0])
        raise ValueError(
            f"weights file {path!r} does not match model {model.name!r}: "
            f"{len(bad)} layer(s) could not be loaded ({', '.join(bad[:5])}"
            f"{', ...' if len(bad) > 5 else ''}); first error: {first}"
        )
    skipped = set(failed_layers)
    for layer, twin_layer in zip(model.layers, twin.layers):
        if layer.name not in skipped:
            for v, tv in zip(layer.weights, twin_layer.weights):
                v.assign(tv)
    if skipped:
        log.warning("%s: kept freshly initialised head layer(s) %s (shape differs in %s)",
                    model.name, ", ".join(sorted(skipped)), path)
    return sorted(skipped)


def _read_weights_into(model, path, failed, saving_lib):
    """Load ``path`` into ``model`` layer by layer, collecting layers that fail in ``failed``."""
    import zipfile

    import keras

    archive = zipfile.ZipFile(path, "r") if path.endswith(".keras") else None
    if archive is not None:
        store = saving_lib.H5IOStore(saving_lib._VARS_FNAME_H5, archive=archive, mode="r")
    else:
        store = saving_lib.H5IOStore(path, mode="r")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mismatches are collected in ``failed`` and reported by us
            saving_lib._load_state(
                model,
                weights_store=store,
                assets_store=None,
                inner_path="",
                skip_mismatch=True,
                visited_saveables=set(),
                failed_saveables=set(),
                error_msgs=failed,
            )
    finally:
        store.close()
        if archive is not None:
            archive.close()
    # Only layers count as mismatches; a model fails whenever one of its layers does.
    for key, (obj, _) in list(failed.items()):
        if not isinstance(obj, keras.layers.Layer) or isinstance(obj, keras.Model):
            del failed[key]


def _count_arrays(path) -> int:
    """Number of model weight arrays in a weights file (optimizer state excluded)."""
    import io
    import zipfile

    import h5py

    def count(h5):
        names = []
        h5.visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
        return sum(1 for n in names if "optimizer" not in n.split("/")[0])

    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as h5:
            return count(h5)
    with h5py.File(path, "r") as h5:
        return count(h5)


def _clone(model):
    import keras

    twin = keras.models.clone_model(model)
    if not twin.built and model.built:
        twin.build(model.input_shape)
    return twin
