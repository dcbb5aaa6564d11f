"""Weights from keras.applications, offline.

``from_keras_applications(model, source)`` copies the weights of a
keras.applications model, or of a keras.applications weights file already on
disk (``resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5`` ...), into the
zoo model of the same architecture. Nothing is downloaded: users on air-gapped
machines copy the ``.h5`` files they have into the zoo.

The zoo families that keras.applications also has (VGG16/19, ResNet50/101/152,
MobileNet, MobileNetV2, MobileNetV3Small/Large, InceptionV3) are built layer for
layer like it, so their weighted layers pair up in order; a 1x1 convolution
classifier (MobileNet's ``conv_preds``, MobileNetV3's ``logits``) pairs with the
zoo's ``predictions`` Dense by a reshape.

Which zoo model has which keras.applications twin is declared once, in its
family file (``@register(..., keras_app="ResNet50")``, ``zoo.info(name)["keras_app"]``);
:data:`KERAS_APPLICATIONS` is that declaration read back from the registry, and
:func:`keras_app_model` builds the twin. zoo models never include preprocessing
(``zoo.preprocessing(name)`` does it) unless their builder takes
``include_preprocessing`` as keras.applications does (ConvNeXt, EfficientNetV2): a
twin that can build preprocessing in is built as the zoo model is, by default without it.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Mapping

import numpy as np

from zoo.core.checks import fail
from zoo.core.naming import HEAD
from zoo.weights.pretrained import finalize_state

__all__ = ["from_keras_applications", "keras_app_model", "KERAS_APPLICATIONS"]

log = logging.getLogger("zoo")

_SOURCES = "a keras.applications model or a path to its .h5 weights file"

class _KerasApplications(Mapping):
    """zoo model name -> keras.applications constructor name, read from the registry on first use."""

    def _table(self) -> dict:
        from zoo import registry

        return {name: registry.info(name)["keras_app"] for name in registry.list_models()
                if registry.info(name)["keras_app"]}

    def __getitem__(self, name):
        return self._table()[name]

    def __iter__(self):
        return iter(self._table())

    def __len__(self):
        return len(self._table())

    def __repr__(self):
        return repr(self._table())


#: zoo model name -> keras.applications constructor name (every registered ``keras_app``).
KERAS_APPLICATIONS = _KerasApplications()


def keras_app_model(name: str, **kwargs):
    """The keras.applications twin of registered model ``name``, ``weights=None`` unless given.

    ``kwargs`` go to its constructor (``input_shape``, ``classes``, ``include_top``,
    ``alpha``...); a twin that can build preprocessing in does so when the zoo
    model's default does (its ``include_preprocessing``), else not.
    """
    import keras

    from zoo import registry

    table = KERAS_APPLICATIONS._table()
    if name not in table:
        raise ValueError(f"invalid model={name!r}: no keras.applications counterpart; expected one of {sorted(table)}")
    constructor = getattr(keras.applications, table[name])
    kwargs.setdefault("weights", None)
    if "include_preprocessing" in inspect.signature(constructor).parameters:
        kwargs.setdefault("include_preprocessing", registry.info(name)["defaults"].get("include_preprocessing", False))
    return constructor(**kwargs)


def _arch(model) -> str:
    name = model.name[: -len("_features")] if model.name.endswith("_features") else model.name
    if name not in KERAS_APPLICATIONS:
        raise ValueError(
            f"invalid model={model.name!r}: no keras.applications counterpart; expected a zoo model "
            f"built by zoo.get() from one of {sorted(KERAS_APPLICATIONS)}"
        )
    return name


def _has_top(model) -> bool:
    return any(layer.name == HEAD for layer in model.layers)


def _build_from_file(model, path, app_kwargs):
    """The keras.applications model matching ``model``, with the weights file ``path`` loaded."""
    arch = _arch(model)
    path = os.fspath(path)
    if not path.endswith(".h5"):
        fail("keras_app_model", path, _SOURCES)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"keras.applications weights file {path!r} does not exist")
    include_top = _has_top(model)
    kwargs = dict(include_top=include_top, input_shape=tuple(model.input_shape[1:]))
    if include_top:
        kwargs["classes"] = model.get_layer(HEAD).units
    built_with = getattr(model, "_zoo_build", (None, {}))[1]  # zoo.get's overrides (registry.remember_build)
    if "include_preprocessing" in built_with:
        kwargs["include_preprocessing"] = built_with["include_preprocessing"]
    app = keras_app_model(arch, **{**kwargs, **app_kwargs})
    try:
        app.load_weights(path)
    except Exception as err:  # h5py and keras raise many types for a wrong file
        raise ValueError(f"could not load keras.applications weights file {path!r} into {app.name}: {err}") from err
    return app


def _weighted(model):
    return [layer for layer in model.layers if layer.weights]


def from_keras_applications(model, keras_app_model, **app_kwargs):
    """Copy the weights of ``keras_app_model`` into zoo ``model``; return ``model``.

    ``keras_app_model`` is a keras.applications model of the same architecture
    (built with any ``weights``), or the path of a keras.applications ``.h5``
    weights file, which is loaded into a matching keras.applications model built
    here (``app_kwargs`` such as ``alpha=0.5`` are passed to its constructor).
    A source with a classification top can fill a zoo model without one.
    All-or-nothing: every array is checked before any is assigned, so a
    mismatch raises ``ValueError`` and leaves ``model`` unchanged.
    """
    if isinstance(keras_app_model, (str, os.PathLike)):
        keras_app_model = _build_from_file(model, keras_app_model, app_kwargs)
    elif app_kwargs:
        raise ValueError(f"unexpected arguments {sorted(app_kwargs)}: they only apply when keras_app_model is a file path")
    elif not hasattr(keras_app_model, "layers"):
        fail("keras_app_model", keras_app_model, _SOURCES)
    src, dst = _weighted(keras_app_model), _weighted(model)
    if len(src) < len(dst):
        raise ValueError(
            f"keras_app_model {keras_app_model.name!r} has {len(src)} layers with weights but model "
            f"{model.name!r} has {len(dst)}: not the same architecture (or the source lacks the top)"
        )
    updates = []
    for s, d in zip(src, dst):
        if len(s.weights) != len(d.weights):
            raise ValueError(
                f"layer {s.name!r} of {keras_app_model.name!r} holds {len(s.weights)} arrays but layer "
                f"{d.name!r} of {model.name!r} holds {len(d.weights)}: not the same architecture"
            )
        for sv, dv in zip(s.weights, d.weights):
            value = np.asarray(sv.numpy())
            if value.shape != tuple(dv.shape):
                if value.size != np.prod(dv.shape):  # a 1x1 conv classifier fits a Dense by reshaping
                    raise ValueError(
                        f"weight {sv.path!r} of shape {value.shape} does not fit {dv.path!r} of shape "
                        f"{tuple(dv.shape)}: not the same architecture or configuration"
                    )
                value = value.reshape(tuple(dv.shape))
            updates.append((dv, value))
    for variable, value in updates:
        variable.assign(value)
    finalize_state(dst)
    skipped = [layer.name for layer in src[len(dst):]]
    if skipped:
        log.info("%s: source layers without a counterpart (top) not copied: %s", model.name, ", ".join(skipped))
    return model
