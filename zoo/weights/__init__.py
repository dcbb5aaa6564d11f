"""Weights: local files, and keras.applications' published weights, offline first.

- :mod:`~zoo.weights.local`: ``load_weights(model, path)``, a ``.weights.h5`` or
  ``.keras`` file loaded all-or-nothing, with head swap (``zoo.get(name, weights=path)``);
- :mod:`~zoo.weights.keras_applications`: ``from_keras_applications(model, source)``
  copies a keras.applications model's weights, or its ``.h5`` file's, into the zoo twin.

The block naming that transfer learning freezes by (``BLOCK_RE``, ``block_names``,
``block_layers``) is :mod:`zoo.core.naming`, re-exported here.
"""

from zoo.core.naming import BLOCK_RE, HEAD, block_layers, block_names
from zoo.weights.keras_applications import KERAS_APPLICATIONS, from_keras_applications
from zoo.weights.local import load_weights

__all__ = ["HEAD", "BLOCK_RE", "block_names", "block_layers", "KERAS_APPLICATIONS", "from_keras_applications",
           "load_weights"]
