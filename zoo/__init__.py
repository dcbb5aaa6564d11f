"""dlzoo's model zoo: ``zoo.get("resnet50", num_classes=10)``.

A registry of reference architectures and everything shared by models and
agents. Every part is reachable as ``zoo.NAME`` after ``import zoo`` and loads
on first use, so ``import zoo; zoo.list_models()`` imports no TensorFlow:

=================  ==============================================================
``zoo.registry``   register / get / list_models / info (re-exported here)
``zoo.models``     one file per model family
``zoo.layers``     layers Keras lacks (min/Lp pooling, sampling, transformer blocks)
``zoo.weights``    local weights files and keras.applications' weights
``zoo.data``       built-in sets, pipelines, augmentation, ``zoo.preprocessing``
``zoo.training``   ``zoo.train`` (fit, recipes), ``zoo.distribute``, ``zoo.callbacks``,
                   ``zoo.optimizers``, ``zoo.tune``, ``zoo.transfer``, ``zoo.unsupervised``
``zoo.deploy``     ``zoo.export``, ``zoo.quantize``, ``zoo.inference``, ``zoo.serve``
``zoo.insight``    ``zoo.diagnostics``, ``zoo.analysis`` (receptive fields), ``zoo.visualize``
``zoo.reproduce``  the reference suite
``zoo.core``       atomic writes, argument checks, naming, plugins, recipes
=================  ==============================================================

The short names in the right column are the modules' public names: ``zoo.train.fit``,
``from zoo.export import litert`` and ``import zoo.callbacks`` all work.
"""

import importlib as _importlib
import importlib.abc as _abc
import importlib.util as _util
import sys as _sys

from zoo.core import quiet as _quiet  # TensorFlow's logs stay off the console

_quiet.install()

from zoo.registry import (  # noqa: E402
    ModelInfo,
    UnknownModelError,
    get,
    info,
    list_models,
    list_pretrained,
    load_weights,
    register,
)

__version__ = "0.1.0"

#: Subpackages and modules, imported on first attribute access.
_SUBMODULES = ("core", "registry", "models", "layers", "weights", "data", "training", "deploy", "insight",
               "reproduce", "cli")

#: Public module names -> where the module lives (``zoo.train`` is ``zoo.training``).
_ALIASES = {
    "train": "zoo.training",
    "distribute": "zoo.training.distribute",
    "callbacks": "zoo.training.callbacks",
    "optimizers": "zoo.training.optimizers",
    "tune": "zoo.training.tune",  # a callable module: zoo.tune(...) is zoo.tune.tune(...)
    "transfer": "zoo.training.transfer",
    "unsupervised": "zoo.training.unsupervised",
    "export": "zoo.deploy.export",
    "quantize": "zoo.deploy.quantize",
    "inference": "zoo.deploy.inference",
    "serve": "zoo.deploy.serve",
    "diagnostics": "zoo.insight.diagnostics",
    "analysis": "zoo.insight.receptive_field",
    "visualize": "zoo.insight.visualize",
    "preprocessing": "zoo.data.preprocessing",  # a callable module: zoo.preprocessing("resnet50")
}

#: Names re-exported from a module.
_NAMES = {
    "receptive_field": "zoo.insight.receptive_field",
    "ReceptiveField": "zoo.insight.receptive_field",
    "decode_predictions": "zoo.weights.imagenet",
    "preprocess": "zoo.data.preprocessing",
    "finetune": "zoo.training.finetune",  # the recipe python -m zoo finetune runs (also zoo.transfer.finetune)
}

__all__ = ["ModelInfo", "UnknownModelError", "get", "info", "list_models", "list_pretrained", "load_weights", "register",
           *_SUBMODULES, *_ALIASES, *_NAMES]


class _AliasLoader(_abc.Loader):
    """Makes ``import zoo.train`` give the module ``zoo.training`` itself (one module, two names)."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return _importlib.import_module(self.target)

    def exec_module(self, module):
        pass  # already executed under its own name


class _AliasFinder(_abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        prefix, _, name = fullname.partition(".")
        if prefix == "zoo" and name in _ALIASES:
            return _util.spec_from_loader(fullname, _AliasLoader(_ALIASES[name]))
        return None


if not any(isinstance(f, _AliasFinder) for f in _sys.meta_path):
    _sys.meta_path.append(_AliasFinder())


def __getattr__(name):
    if name in _SUBMODULES:
        return _importlib.import_module(f"zoo.{name}")
    if name in _ALIASES:
        return _importlib.import_module(f"zoo.{name}")
    if name in _NAMES:
        return getattr(_importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
