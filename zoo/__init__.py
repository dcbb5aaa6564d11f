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
]
