"""Vision entries of the reproduce suite.

The tiny-image training recipes (``simple_cnn``, ``lenet5``, ``resnet18`` on
digits upsampled to 32x32) get their entries from the registry
(``zoo/reproduce/models.py``). This module adds the keras.applications weight
transfer: random weights in keras.applications models, copied into the zoo
models with ``zoo.weights.from_keras_applications``, must reproduce their outputs.
"""

from __future__ import annotations

from zoo.reproduce import entry

# zoo name -> (keras.applications constructor, input side): one model per keras family
_PARITY = (
    ("vgg16", "VGG16", 32),
    ("resnet50", "ResNet50", 32),
    ("mobilenet", "MobileNet", 32),
    ("mobilenet_v2", "MobileNetV2", 32),
    ("mobilenet_v3_small", "MobileNetV3Small", 32),
    ("inception_v3", "InceptionV3", 75),
)


@entry("keras_applications_weight_transfer", data="random", metric="max |zoo - keras| output", reference=1e-5,
       mode="min")
def keras_applications_weight_transfer(out_dir):
    import keras
    import numpy as np

    import zoo
    from zoo.weights.keras_applications import from_keras_applications

    rng = np.random.default_rng(0)
    worst, per_model = 0.0, {}
    for name, app, side in _PARITY:
        shape = (side, side, 3)
        extra = {"include_preprocessing": False} if app.startswith("MobileNetV3") else {}
        source = getattr(keras.applications, app)(weights=None, input_shape=shape, classes=10,
                                                  classifier_activation=None, **extra)
        for w in source.weights:  # random, non-degenerate weights (positive variances)
            value = rng.normal(0, 0.05, w.shape)
            w.assign((0.5 + np.abs(value) if "moving_variance" in w.path else value).astype("float32"))
        model = from_keras_applications(zoo.get(name, input_shape=shape, num_classes=10, classifier_activation=None),
                                        source)
        x = rng.uniform(-1, 1, size=(4, *shape)).astype("float32")
        diff = float(np.max(np.abs(model.predict_on_batch(x) - source.predict_on_batch(x))))
        per_model[name] = diff
        worst = max(worst, diff)
    return {"value": worst, "per_model": per_model}
