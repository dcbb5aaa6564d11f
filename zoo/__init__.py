"""dlzoo's model zoo: ``zoo.get("resnet50", num_classes=10)``.

A registry of reference architectures and everything shared by models and
agents: data, training, callbacks, layers, optimizers.
"""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from zoo.registry import (  # noqa: E402
    ModelInfo,
    UnknownModelError,
    get,
    info,
    list_models,
    load_weights,
    register,
)
from zoo import data  # noqa: E402,F401
from zoo import preprocessing, weights  # noqa: E402,F401  (light: keras loads on first use)
from zoo import export, inference, quantize, serve  # noqa: E402,F401  (light: TF/TF-MOT load lazily)
from zoo import distribute  # noqa: E402,F401  (light: TF loads when a strategy is made)

__version__ = "0.1.0"

__all__ = [
    "ModelInfo",
    "UnknownModelError",
    "get",
    "info",
    "list_models",
    "load_weights",
    "register",
    "data",
    "preprocessing",
    "weights",
    "export",
    "inference",
    "quantize",
    "serve",
    "distribute",
]

# Training toolkit: heavy modules (Keras, keras-tuner) load on first use (PEP 562).
_TOOLKIT_MODULES = ("analysis", "callbacks", "optimizers", "transfer", "tune", "visualize", "train")
_TOOLKIT_NAMES = {"receptive_field": "analysis", "ReceptiveField": "analysis"}
__all__ += [*_TOOLKIT_MODULES, *_TOOLKIT_NAMES]


def __getattr__(name):
    import importlib

    if name in _TOOLKIT_MODULES:
        return importlib.import_module(f"zoo.{name}")  # zoo.tune is a callable module: zoo.tune(...)
    if name in _TOOLKIT_NAMES:
        return getattr(importlib.import_module(f"zoo.{_TOOLKIT_NAMES[name]}"), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
