"""Model families. Importing this package registers every model (one file per family).

The family files import no Keras (see :mod:`zoo.models._lazy`), so filling the
registry stays free of TensorFlow. If Keras is already imported, the zoo's Keras
classes are defined (and registered for ``.keras`` loading) right away.
"""

import importlib
import pkgutil
import sys

from zoo.models._lazy import define_keras_classes

# Every module in this package is a family file; importing it runs its @register lines.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

if "keras" in sys.modules:
    define_keras_classes()


def load_model(path):
    """A ``.keras`` file loaded with ``safe_mode=True``, every zoo class defined first (in any process)."""
    import keras

    import zoo.core.recipe  # noqa: F401 - its learning-rate schedule and loss, which a trained model's optimizer holds

    define_keras_classes()
    try:  # nlp's tokenizer layer, for text models that start with their tokenizer (nlp builds on zoo)
        import nlp.tokenizers.layer  # noqa: F401
    except ImportError:
        pass
    return keras.saving.load_model(path, safe_mode=True)


__all__ = ["define_keras_classes", "load_model"]
