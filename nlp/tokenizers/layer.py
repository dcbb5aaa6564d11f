"""Keras preprocessing layer running a tokenizer: strings in, int32 ids out."""

from __future__ import annotations

import keras

from nlp.tokenizers.base import Tokenizer
from nlp.tokenizers.native import native
from zoo.core.checks import check_int, fail

__all__ = ["TokenizerLayer"]


@keras.saving.register_keras_serializable(package="nlp")
class TokenizerLayer(keras.layers.Layer):
    """Keras preprocessing layer: a batch of strings -> int32 ids (padded to ``sequence_length``).

    It runs in TensorFlow ops only (:mod:`nlp.tokenizers.native`: tensorflow-text's
    SentencePiece op, ``tf.strings`` and static hash tables) with the Python
    tokenizer's ids, so a model that starts with it takes raw strings
    (``keras.Input(shape=(), dtype="string")`` or ``shape=(1,)``), runs in tf.data
    (``ds.map(layer)``) and exports to a SavedModel that another process (or
    TensorFlow Serving, with tensorflow-text's ops for SentencePiece) loads. Its
    config holds the whole tokenizer (JSON), so a ``.keras`` file with it loads
    (``safe_mode=True``) with the same ids. A SentencePiece tokenizer with
    ``enable_sampling`` samples only when called with ``training=True`` (in ``fit``).
    """

    #: read by ``zoo.export.litert`` when the converter refuses the string ops
    litert_hint = ("LiteRT has no kernels for its string, hash-table and SentencePiece ops (with Select TF ops the "
                   "file converts, but ai_edge_litert has no Flex delegate to run it); tokenise outside the "
                   "model (tok.encode(texts, max_length=..., padding='max_length')) and export the model from token ids "
                   "(keras.Model(ids_input, outputs)), or serve the SavedModel (zoo.export.saved_model), which takes "
                   "raw strings.")

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
        if sequence_length is not None and sequence_length < self.add_bos + self.add_eos:
            raise ValueError(f"invalid sequence_length={sequence_length}; expected at least "
                             f"{self.add_bos + self.add_eos} with add_bos/add_eos")
        self.supports_jit = False  # string ops: model.fit must not XLA-compile the step
        self.native = native(self.tokenizer)  # a tf.Module: its tables and model export with the layer

    def call(self, inputs, training=None):
        padding = "max_length" if self.sequence_length else "longest"
        return self.native(inputs, max_length=self.sequence_length, padding=padding, add_bos=self.add_bos,
                           add_eos=self.add_eos, training=bool(training))

    def compute_output_shape(self, input_shape):
        if len(input_shape) == 0:
            return (self.sequence_length,)
        return tuple(input_shape[:1]) + (self.sequence_length,)

    def get_config(self):
        config = super().get_config()
        config.update(tokenizer=self.tokenizer.to_dict(), sequence_length=self.sequence_length,
                      add_bos=self.add_bos, add_eos=self.add_eos)
        return config
