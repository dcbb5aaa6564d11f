"""Transformer building blocks on Keras 3's ``MultiHeadAttention``.

- ``CachedMultiHeadAttention``: ``MultiHeadAttention`` plus ``call_with_cache``,
  which attends over past keys/values kept in a cache (autoregressive decoding).
- ``TransformerBlock``: pre-LayerNorm block (GPT-2, BERT style with pre-norm):
  ``x + Attn(LN(x))`` then ``x + MLP(LN(x))``; causal or bidirectional, padding mask.
- ``PositionEmbedding``: learned or sinusoidal (Vaswani et al. 2017) positions,
  added to token embeddings, with a start offset for cached decoding.
- ``ReversibleEmbedding``: an ``Embedding`` that also maps vectors back to
  vocabulary logits with its transposed matrix (weight tying, Press & Wolf 2017).
- ``PaddingMask`` and ``SequencePooling``: padding-aware helpers for encoders.
"""

from __future__ import annotations

import keras
from keras import ops

from zoo.core.checks import check_bool, check_int, check_number, fail

__all__ = [
    "CachedMultiHeadAttention",
    "TransformerBlock",
    "PositionEmbedding",
    "ReversibleEmbedding",
    "PaddingMask",
    "SequencePooling",
]

_register = keras.saving.register_keras_serializable(package="zoo")


@_register
class CachedMultiHeadAttention(keras.layers.MultiHeadAttention):
    """``MultiHeadAttention`` with a key/value cache for incremental decoding."""

    def call_with_cache(self, x, cache=None, training=False):
        """Self-attention of new positions ``x`` (B, T, D) over the cache plus themselves.

        ``cache`` is ``None`` or ``(keys, values)`` of the earlier positions, each
        (B, S, heads, key_dim). Position ``t`` of ``x`` sees every cached position and
        the new ones up to itself (causal). Returns ``(output, (keys, values))``.
        """
        query = self._query_dense(x)
        key = self._key_dense(x)
        value = self._value_dense(x)
        past = 0
        if cache is not None:
            past = ops.shape(cache[0])[1]
            key = ops.concatenate([cache[0], key], axis=1)
            value = ops.concatenate([cache[1], value], axis=1)
        t_new = ops.shape(x)[1]
        q_pos = ops.arange(t_new)[:, None] + past
        k_pos = ops.arange(ops.shape(key)[1])[None, :]
        mask = ops.expand_dims(k_pos <= q_pos, 0)  # (1, T, S)
        mask = ops.broadcast_to(mask, (ops.shape(x)[0], t_new, ops.shape(key)[1]))
        out, _ = self._compute_attention(query, key, value, mask, training)
        if getattr(self, "_use_gate", False):
            out = out * self._gate_dense(x)
        return self._output_dense(out), (key, value)


@_register
class TransformerBlock(keras.layers.Layer):
    """Pre-LayerNorm transformer block: ``x + Attn(LN(x))``, then ``x + MLP(LN(x))``.

    ``causal=True`` masks future positions (decoder, GPT); ``padding_mask``
    (B, T) booleans hide padded keys (encoder, BERT).
    """

    def __init__(self, num_heads, ff_dim, dropout=0.0, causal=False, activation="gelu", epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        check_int("num_heads", num_heads, minimum=1, owner="TransformerBlock")
        check_int("ff_dim", ff_dim, minimum=1, owner="TransformerBlock")
        check_number("dropout", dropout, 0, 1, high_open=True, owner="TransformerBlock")
        check_bool("causal", causal, "TransformerBlock")
        check_number("epsilon", epsilon, low=0, low_open=True, owner="TransformerBlock")
        self.num_heads = int(num_heads)
        self.ff_dim = int(ff_dim)
        self.dropout = float(dropout)
        self.causal = bool(causal)
        self.activation = activation
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim % self.num_heads:
            raise ValueError(
                f"{self.name}: invalid num_heads={self.num_heads} for width {dim}; expected a divisor of {dim}"
            )
        self.norm_1 = keras.layers.LayerNormalization(epsilon=self.epsilon, name="norm_1")
        self.attention = CachedMultiHeadAttention(
            self.num_heads, dim // self.num_heads, dropout=self.dropout, name="attention"
        )
        self.norm_2 = keras.layers.LayerNormalization(epsilon=self.epsilon, name="norm_2")
        self.ff_1 = keras.layers.Dense(self.ff_dim, activation=self.activation, name="ff_1")
        self.ff_2 = keras.layers.Dense(dim, name="ff_2")
        self.drop = keras.layers.Dropout(self.dropout)
        self.norm_1.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.norm_2.build(input_shape)
        self.ff_1.build(input_shape)
        self.ff_2.build((*input_shape[:-1], self.ff_dim))
        self.built = True

    def _mlp(self, x, training):
        return x + self.drop(self.ff_2(self.ff_1(self.norm_2(x))), training=training)

    def call(self, x, padding_mask=None, training=None):
        h = self.norm_1(x)
        mask = None
        if padding_mask is not None:
            pm = ops.cast(padding_mask, "bool")
            mask = ops.logical_and(ops.expand_dims(pm, 1), ops.expand_dims(pm, 2))
        h = self.attention(h, h, attention_mask=mask, use_causal_mask=self.causal, training=training)
        x = x + self.drop(h, training=training)
        return self._mlp(x, training)

    def call_with_cache(self, x, cache=None):
        """Inference on new positions with the key/value ``cache``: ``(output, new_cache)``."""
        if not self.causal:
            raise ValueError(f"{self.name}: a key/value cache needs causal=True")
        h, cache = self.attention.call_with_cache(self.norm_1(x), cache)
        return self._mlp(x + h, False), cache

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "dropout": self.dropout,
            "causal": self.causal,
            "activation": self.activation,
            "epsilon": self.epsilon,
        }


@_register
class PositionEmbedding(keras.layers.Layer):
    """Adds position information to (B, T, D) embeddings; ``kind`` is ``learned`` or ``sinusoidal``.

    ``call(x, start=s)`` gives positions ``s .. s+T-1`` (cached decoding). A sequence
    longer than ``max_length`` raises ``ValueError``.
    """

    def __init__(self, max_length, kind="learned", **kwargs):
        super().__init__(**kwargs)
        if kind not in ("learned", "sinusoidal"):
            fail("kind", kind, "'learned' or 'sinusoidal'", "PositionEmbedding")
        check_int("max_length", max_length, minimum=1, owner="PositionEmbedding")
        self.max_length = max_length
        self.kind = kind

    def build(self, input_shape):
        dim = input_shape[-1]
        if self.kind == "learned":
            self.positions = self.add_weight(
                shape=(self.max_length, dim),
                initializer=keras.initializers.RandomNormal(stddev=0.02),
                name="positions",
            )
        else:
            self.positions = ops.convert_to_tensor(_sinusoidal(self.max_length, dim))
        self.built = True

    def call(self, x, start=0):
        length = x.shape[1]
        if isinstance(length, int) and isinstance(start, int) and start + length > self.max_length:
            raise ValueError(
                f"{self.name}: invalid sequence length {start + length}: longer than the context of "
                f"{self.max_length} positions; expected at most {self.max_length} tokens"
            )
        pos = ops.slice(self.positions, (start, 0), (ops.shape(x)[1], ops.shape(self.positions)[1]))
        return x + ops.cast(pos, x.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length, "kind": self.kind}


def _sinusoidal(length, dim):
    import numpy as np

    pos = np.arange(length)[:, None]
    i = np.arange(dim)[None, :]
    angle = pos / np.power(10000.0, (2 * (i // 2)) / dim)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle)).astype("float32")


@_register
class ReversibleEmbedding(keras.layers.Embedding):
    """``Embedding`` whose ``call(x, reverse=True)`` returns ``x @ embeddings.T`` (tied output layer)."""

    def call(self, inputs, reverse=False):
        if reverse:
            return ops.matmul(inputs, ops.transpose(ops.cast(self.embeddings, inputs.dtype)))
        return super().call(inputs)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*input_shape[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, reverse=False):
        shape = self.compute_output_shape(inputs.shape, reverse=reverse)
        return keras.KerasTensor(shape, dtype=self.compute_dtype)


@_register
class PaddingMask(keras.layers.Layer):
    """Token ids (B, T) -> booleans that are ``False`` at ``pad_id``."""

    def __init__(self, pad_id=0, **kwargs):
        super().__init__(**kwargs)
        check_int("pad_id", pad_id, owner="PaddingMask")
        self.pad_id = int(pad_id)

    def call(self, ids):
        return ops.not_equal(ids, self.pad_id)

    def compute_output_spec(self, ids):
        return keras.KerasTensor(ids.shape, dtype="bool")

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


@_register
class SequencePooling(keras.layers.Layer):
    """(B, T, D) -> (B, D): ``mode="mean"`` over unpadded positions or ``"first"`` ([CLS])."""

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("mean", "first"):
            raise ValueError(f"invalid pooling mode={mode!r}; expected 'mean' or 'first'")
        self.mode = mode

    def call(self, x, padding_mask=None):
        if self.mode == "first":
            return x[:, 0, :]
        if padding_mask is None:
            return ops.mean(x, axis=1)
        w = ops.cast(padding_mask, x.dtype)[..., None]
        return ops.sum(x * w, axis=1) / ops.maximum(ops.sum(w, axis=1), 1.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}

