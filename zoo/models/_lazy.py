"""Keras on first use, so that ``import zoo; zoo.list_models()`` imports no TensorFlow.

Family files register their models at import, and a registry lookup imports
them all; so they must not import Keras themselves. They take it from here:

- :data:`keras` is the ``keras`` module, imported on the first attribute access
  (``keras.layers``, ``keras.Input``). Builders keep it as their default
  ``keras=`` argument, so ``keras=tf_keras`` still builds the TF-MOT twin.
- :func:`keras_class` declares a Keras subclass as a plain-Python body (its
  methods) and a Keras base; the class itself (``body + keras.Model``,
  registered for ``.keras`` loading as ``zoo>Name``) is made on first use, and
  the family module's ``__getattr__`` (:func:`declared_class`) hands it out, so
  ``from zoo.models.gan import DCGAN`` gives the real class. ``isinstance`` checks
  inside the family use the body, which every instance inherits.

Every declared class (and every :func:`on_keras` hook, such as the
preprocessing layer's registration) is defined as soon as Keras is first used
through :data:`keras`, or when the registry fills while Keras is already
imported: a ``.keras`` file that holds any of them then loads.
"""

from __future__ import annotations

import importlib
import inspect
import sys

__all__ = ["LazyModule", "keras", "ops", "keras_class", "declared_class", "on_keras", "define_keras_classes"]

_DECLARED: dict[tuple[str, str], tuple[type, str]] = {}  # (module, name) -> (body, base)
_CLASSES: dict[tuple[str, str], type] = {}
_HOOKS: list = []


class LazyModule:
    """A module (or an attribute path inside one) imported on the first attribute access."""

    def __init__(self, name: str, *path: str):
        self.__dict__.update(_name=name, _path=path, _target=None)

    def _load(self):
        if self._target is None:
            target = importlib.import_module(self._name)
            if self._name == "keras":
                define_keras_classes()
            for attr in self._path:
                target = getattr(target, attr)
            self.__dict__["_target"] = target
        return self._target

    def __getattr__(self, attr):
        return getattr(self._load(), attr)

    def __repr__(self):
        return f"<lazy module {'.'.join((self._name, *self._path))}>"


#: ``keras`` and ``keras.ops``, imported on first use.
keras = LazyModule("keras")
ops = LazyModule("keras", "ops")


def on_keras(hook):
    """Run ``hook()`` once Keras is in use (see :func:`define_keras_classes`); returns ``hook``."""
    _HOOKS.append(hook)
    if _defining["done"]:
        hook()
    return hook


_defining = {"active": False, "done": False}


def define_keras_classes():
    """Define every declared Keras class and run the hooks (idempotent), so saved models that hold them load."""
    if _defining["active"]:
        return
    _defining["active"] = True
    try:
        for key in list(_DECLARED):
            _class(*key)
        for hook in list(_HOOKS):
            hook()
        _defining["done"] = True
    finally:
        _defining["active"] = False


def _class(module: str, name: str) -> type:
    key = (module, name)
    if key not in _CLASSES:
        import keras as real

        body, base = _DECLARED[key]
        parent = getattr(real.layers, base) if base == "Layer" else getattr(real, base)
        namespace = {"__module__": module, "__qualname__": name, "__doc__": body.__doc__}
        cls = type(name, (body, parent), namespace)
        _CLASSES[key] = real.saving.register_keras_serializable(package="zoo")(cls)
    return _CLASSES[key]


def keras_class(module: str, name: str, body: type, base: str = "Model"):
    """Declare Keras class ``module.name`` = ``body`` + ``keras.<base>``; return its lazy constructor.

    The constructor (a registry ``builder=``) has the signature of ``body.__init__``
    and defines the class on its first call.
    """
    _DECLARED[(module, name)] = (body, base)

    def construct(*args, **kwargs):
        return _class(module, name)(*args, **kwargs)

    signature = inspect.signature(body.__init__)
    construct.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])
    construct.__name__ = construct.__qualname__ = name
    construct.__module__ = module
    construct.__doc__ = body.__doc__
    if "keras" in sys.modules and _defining["done"]:
        _class(module, name)
    return construct


def declared_class(module: str, attr: str) -> type:
    """The family module's ``__getattr__``: its declared Keras class ``attr``, made on first use."""
    if (module, attr) in _DECLARED:
        return _class(module, attr)
    raise AttributeError(f"module {module!r} has no attribute {attr!r}")
