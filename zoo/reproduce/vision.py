"""Vision entries of the reproduce suite.

The tiny-image training recipes (``simple_cnn``, ``lenet5``, ``resnet18`` on
digits upsampled to 32x32) get their entries from the registry
(``zoo/reproduce/models.py``). This module adds the keras.applications weight
transfer: random weights in keras.applications models, copied into the zoo
models with ``zoo.weights.from_keras_applications``, must reproduce their outputs.
"""

from __future__ import annotations

from zoo.reproduce import entry


def _parity_models():
    """(zoo name, input side): the smallest registered twin of each keras.applications module
    (``zoo.info(name)["keras_app"]``), at its minimum input side or 32."""
    import keras

    import zoo

    smallest = {}
    for name, app in sorted(zoo.weights.KERAS_APPLICATIONS.items()):
        module = getattr(keras.applications, app).__module__
        if module not in smallest or zoo.info(name)["params"] < zoo.info(smallest[module])["params"]:
            smallest[module] = name
    return [(name, max(32, zoo.info(name)["min_input_shape"][0])) for name in sorted(smallest.values())]


@entry("keras_applications_weight_transfer", data="random", metric="max |zoo - keras| output", reference=1e-5,
       mode="min")
def keras_applications_weight_transfer(out_dir):
    import numpy as np

    import zoo
    from zoo.weights.keras_applications import from_keras_applications, keras_app_model
    from zoo.weights.pretrained import finalize_state

    rng = np.random.default_rng(0)
    worst, per_model = 0.0, {}
    for name, side in _parity_models():
        shape = (side, side, 3)
        source = keras_app_model(name, input_shape=shape, classes=10, classifier_activation=None)
        for w in source.weights:  # random, non-degenerate weights (positive variances, batch norm's and inputs')
            value = rng.normal(0, 0.05, w.shape)
            w.assign((0.5 + np.abs(value) if "variance" in w.path else value).astype("float32"))
        finalize_state(source.layers)  # what Keras's loaders do after assigning (Normalization's mean and variance)
        model = from_keras_applications(zoo.get(name, input_shape=shape, num_classes=10, classifier_activation=None),
                                        source)
        x = rng.uniform(-1, 1, size=(4, *shape)).astype("float32")
        diff = float(np.max(np.abs(model.predict_on_batch(x) - source.predict_on_batch(x))))
        per_model[name] = diff
        worst = max(worst, diff)
    return {"value": worst, "per_model": per_model}
