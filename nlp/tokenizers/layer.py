"""Keras preprocessing layer running a tokenizer: strings in, int32 ids out."""

from __future__ import annotations

import keras

from nlp.tokenizers.base import Tokenizer
from zoo.core.checks import check_int, fail

__all__ = ["TokenizerLayer"]


@keras.saving.register_keras_serializable(package="nlp")
class TokenizerLayer(keras.layers.Layer):
    """Keras preprocessing layer: a batch of strings -> int32 ids (padded to ``sequence_length``).

    Its config holds the whole tokenizer (JSON), so a ``.keras`` file with it
    loads (``safe_mode=True``) with the same ids. It runs the tokenizer through
    ``tf.py_function``: use it in tf.data or eager/graph TensorFlow, not in
    exported SavedModels or LiteRT.
    """

    def __init__(self, tokenizer, sequence_length=None, add_bos=False, add_eos=False, **kwargs):
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        super().__init__(trainable=False, dtype="int32", **kwargs)
        if not isinstance(tokenizer, (Tokenizer, dict)):
            fail("tokenizer", tokenizer, "an nlp tokenizer (or its to_dict())", "TokenizerLayer", error=TypeError)
        self.tokenizer = tokenizer if isinstance(tokenizer, Tokenizer) else Tokenizer.from_dict(tokenizer)
        check_int("sequence_length", sequence_length, 1, allow_none=True)
        self.sequence_length = sequence_length
        self.add_bos, self.add_eos = bool(add_bos), bool(add_eos)

    def call(self, inputs):
        padding = "max_length" if self.sequence_length else "longest"
        return self.tokenizer.tf_encode(inputs, max_length=self.sequence_length, padding=padding,
                                        add_bos=self.add_bos, add_eos=self.add_eos)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:1]) + (self.sequence_length,)

    def get_config(self):
        config = super().get_config()
        config.update(tokenizer=self.tokenizer.to_dict(), sequence_length=self.sequence_length,
                      add_bos=self.add_bos, add_eos=self.add_eos)
        return config
