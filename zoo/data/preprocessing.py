"""Input preprocessing: ``zoo.preprocessing(name)`` maps uint8 images to what a model expects.

Each image model registers its expected input range as ``zoo.info(name)["input_range"]``:

=========  ======================================================================
``[0, 1]``   ``x / 255``
``[-1, 1]``  ``x / 127.5 - 1`` (keras.applications' "tf" mode: MobileNets, InceptionV3)
``caffe``    RGB to BGR, then the ImageNet channel means subtracted, no scaling
             (keras.applications' "caffe" mode: VGG16/19, ResNet50/101/152)
``torch``    ``x / 255``, then ImageNet mean/std normalisation (torchvision's convention)
``[0, 255]`` nothing: the model rescales and normalises inside (EfficientNet, ConvNeXt)
=========  ======================================================================

``zoo.preprocessing("resnet50")`` (a registered model) or ``zoo.preprocessing("caffe")``
(a range) returns an :class:`ImagePreprocessing` layer: put it in front of the
model, or map it over a ``tf.data`` pipeline. It saves and loads with ``.keras`` files.
``zoo.preprocess("resnet50", images)`` (or a model built by ``zoo.get``) applies it
to a batch at once: the weights' input mode, without looking it up.

``input_range="[0, 1]"`` makes the layer take images in [0, 1] instead (what every
``zoo.data`` source yields): ``zoo.preprocessing("resnet50", input_range="[0, 1]")``
in front of a backbone gives a model that takes ``zoo.data`` images as they come.

:func:`class_names_layer` is the output side: ``ClassNames`` is an identity layer that
stores a classifier's label names in its config, so a saved ``.keras`` file says what
its outputs mean (``python -m zoo predict`` prints them; :func:`class_names` reads them).
"""

from __future__ import annotations

import sys
import types

from zoo.core.checks import check_model, check_str, fail

__all__ = ["MODES", "INPUT_RANGES", "layer_class", "class_names_layer", "class_names", "preprocessing",
           "preprocess"]  # and ImagePreprocessing, ClassNames: made on first use

MODES = ("[0, 1]", "[-1, 1]", "caffe", "torch", "[0, 255]")
INPUT_RANGES = ("[0, 255]", "[0, 1]")  # what ImagePreprocessing takes: uint8-like values, or zoo.data's

_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def _make_layer_classes():
    """Define the layers on first use, so that ``import zoo`` stays free of TensorFlow."""
    import keras

    @keras.saving.register_keras_serializable(package="zoo")
    class ImagePreprocessing(keras.layers.Layer):
        """Map images with values in ``input_range`` (``[0, 255]``: uint8 or float; ``[0, 1]``) to ``mode``'s range."""

        def __init__(self, mode="[0, 1]", input_range="[0, 255]", **kwargs):
            if mode not in MODES:
                fail("mode", mode, f"one of {MODES}")
            if input_range not in INPUT_RANGES:
                fail("input_range", input_range, f"one of {INPUT_RANGES}")
            super().__init__(**kwargs)
            self.mode = mode
            self.input_range = input_range

        def build(self, input_shape):
            if self.mode in ("caffe", "torch") and input_shape[-1] != 3:
                raise ValueError(
                    f"ImagePreprocessing(mode={self.mode!r}): invalid input with {input_shape[-1]} channel(s); "
                    "expected RGB images with 3 channels (last axis)"
                )
            self.built = True

        def call(self, x):
            ops = keras.ops
            x = ops.cast(x, self.compute_dtype)
            if self.input_range == "[0, 1]":
                if self.mode == "[0, 1]":
                    return x
                x = x * 255.0
            if self.mode == "[0, 255]":
                return x
            if self.mode == "[0, 1]":
                return x / 255.0
            if self.mode == "[-1, 1]":
                return x / 127.5 - 1.0
            if self.mode == "caffe":
                return ops.flip(x, axis=-1) - ops.convert_to_tensor(_CAFFE_MEAN_BGR, dtype=self.compute_dtype)
            mean = ops.convert_to_tensor(_TORCH_MEAN, dtype=self.compute_dtype)
            std = ops.convert_to_tensor(_TORCH_STD, dtype=self.compute_dtype)
            return (x / 255.0 - mean) / std

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "mode": self.mode, "input_range": self.input_range}

    @keras.saving.register_keras_serializable(package="zoo")
    class ClassNames(keras.layers.Layer):
        """An identity layer holding ``class_names``: what each output of a classifier means."""

        def __init__(self, class_names, **kwargs):
            if not isinstance(class_names, (list, tuple)) or not class_names or \
                    not all(isinstance(n, str) for n in class_names):
                fail("class_names", class_names, "a non-empty list of strings", owner="ClassNames")
            super().__init__(**kwargs)
            self.class_names = list(class_names)

        def build(self, input_shape):
            if input_shape[-1] is not None and input_shape[-1] != len(self.class_names):
                raise ValueError(f"ClassNames: invalid input with {input_shape[-1]} outputs for "
                                 f"{len(self.class_names)} class names; expected one name per output")
            self.built = True

        def call(self, x):
            return x

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "class_names": self.class_names}

    return ImagePreprocessing, ClassNames


_LAYER_CLASSES = []


def layer_class():
    """The :class:`ImagePreprocessing` layer class (registered as ``zoo>ImagePreprocessing`` for loading).

    Defining it also defines and registers ``zoo>ClassNames`` (:func:`class_names_layer`).
    """
    if not _LAYER_CLASSES:
        _LAYER_CLASSES.extend(_make_layer_classes())
    return _LAYER_CLASSES[0]


def class_names_layer():
    """The ``ClassNames`` layer class: ``ClassNames(["cat", "dog"])`` after a classifier's output."""
    layer_class()
    return _LAYER_CLASSES[1]


def class_names(model) -> list[str] | None:
    """The label names a model stores in its ``ClassNames`` layer (searched in sub-models too), or None."""
    check_model("model", model, "class_names", accepted="a Keras model")
    cls = class_names_layer()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, cls):
            return list(layer.class_names)
    return None


def preprocessing(name: str, **layer_kwargs):
    """The layer that maps uint8 images to the input range of model ``name`` (or of range ``name``).

    ``input_range="[0, 1]"`` (a layer argument) for images in [0, 1], as ``zoo.data`` gives them.
    """
    check_str("name", name, "zoo.preprocessing", accepted=f"a registered model name or an input range, one of {MODES}")
    if name in MODES:
        return layer_class()(name, **layer_kwargs)
    from zoo import registry

    try:
        meta = registry.info(name)
    except registry.UnknownModelError as err:
        raise registry.UnknownModelError(f"{err}; or an input range, one of {MODES}") from None
    mode = meta["input_range"]
    if mode not in MODES:
        raise ValueError(
            f"model {name!r} registers input_range={mode!r}, which has no image preprocessing; "
            f"expected a model whose input_range is one of {MODES}, or one of those ranges"
        )
    return layer_class()(mode, name=f"{name}_preprocessing", **layer_kwargs)


def preprocess(name_or_model, images):
    """``images`` (uint8 or floats in [0, 255], channels last) mapped to what a model expects.

    ``name_or_model`` is a registered name (``"resnet50"``, ``"resnet50.imagenet"``), a
    model built by ``zoo.get`` (its name is remembered), or an input range from
    :data:`MODES`. Returns a NumPy array: caffe, tf or torch scaling, or the images as
    floats where the model rescales inside (EfficientNet, ConvNeXt).
    """
    import numpy as np

    if not isinstance(name_or_model, str):
        built = getattr(name_or_model, "_zoo_build", None)
        if built is None:
            fail("name_or_model", name_or_model, "a registered model name, an input range or a model built by zoo.get",
                 owner="preprocess")
        name_or_model = built[0]
    elif name_or_model not in MODES:
        from zoo import registry

        name_or_model = registry._split_tag(name_or_model)[0]
    images = np.asarray(images)
    if images.ndim < 3:
        fail("images", f"<array of shape {images.shape}>", "images with channels last, (h, w, c) or (batch, h, w, c)",
             owner="preprocess")
    return np.asarray(preprocessing(name_or_model)(images))


class _CallableModule(types.ModuleType):
    """Lets ``zoo.preprocessing("resnet50")`` work while ``zoo.preprocessing`` stays this module."""

    def __call__(self, name, **layer_kwargs):
        return preprocessing(name, **layer_kwargs)

    def __getattr__(self, attr):
        if attr == "ImagePreprocessing":
            return layer_class()
        if attr == "ClassNames":
            return class_names_layer()
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")


sys.modules[__name__].__class__ = _CallableModule
