"""Sampling: the VAE's reparameterisation layer, and next-token sampling for text generation.

``Sampling`` draws ``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``
(Kingma & Welling 2014), so gradients flow to the mean and the variance.

``generate_tokens`` is the decoding loop shared by the character LSTM and GPT:
it feeds a prompt, then samples one token at a time with a temperature and an
optional top-k cut, from a ``step(ids, state) -> (last_logits, state)`` function.
``CharVocabulary`` maps text to ids and back for character-level models.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np

from zoo.core.checks import check_bool, fail

__all__ = ["Sampling", "CharVocabulary", "sample_next", "check_sampling_args", "generate_tokens"]


@keras.saving.register_keras_serializable(package="zoo")
class Sampling(keras.layers.Layer):
    """Reparameterisation trick: ``[mean, log_var] -> mean + exp(log_var / 2) * eps``.

    It samples in training; at inference it returns ``mean`` (deterministic
    reconstructions) unless ``sample_at_inference=True``.
    """

    def __init__(self, seed=None, sample_at_inference=False, **kwargs):
        super().__init__(**kwargs)
        check_bool("sample_at_inference", sample_at_inference, "Sampling")
        self.seed = seed
        self.sample_at_inference = bool(sample_at_inference)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        mean, log_var = inputs
        if not (training or self.sample_at_inference):
            return mean
        eps = keras.random.normal(keras.ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
        return mean + keras.ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "sample_at_inference": self.sample_at_inference}


class CharVocabulary:
    """Characters <-> ids for character-level models: id ``i`` is ``chars[i]``."""

    def __init__(self, chars: str):
        if not isinstance(chars, str) or not chars:
            fail("vocabulary", chars, "a non-empty string of characters")
        if len(set(chars)) != len(chars):
            dup = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"invalid vocabulary: repeated characters {dup!r}; expected each character once")
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        """The sorted set of characters of ``text``."""
        return cls("".join(sorted(set(text))))

    def __len__(self):
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted({c for c in text if c not in self.index})
        if unknown:
            raise ValueError(
                f"invalid prompt: character(s) {''.join(unknown)!r} are not in the model's vocabulary "
                f"of {len(self.chars)} characters; expected text made of {self.chars[:60]!r}"
                + ("..." if len(self.chars) > 60 else "")
            )
        return np.array([self.index[c] for c in text], dtype="int32")

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def check_sampling_args(temperature, top_k, vocab_size, length=None):
    """Raise a ``ValueError`` naming the argument for a bad temperature, top_k or length."""
    if not isinstance(temperature, numbers.Real) or isinstance(temperature, bool) or not temperature > 0:
        fail("temperature", temperature, "a number > 0 (use top_k=1 for greedy decoding)")
    if top_k is not None and (
        not isinstance(top_k, numbers.Integral) or isinstance(top_k, bool) or not 1 <= top_k <= vocab_size
    ):
        fail("top_k", top_k, f"None or an integer in [1, {vocab_size}]")
    if length is not None and (not isinstance(length, numbers.Integral) or isinstance(length, bool) or length < 0):
        fail("length", length, "a non-negative integer")


def sample_next(logits, temperature=1.0, top_k=None, rng=None) -> np.ndarray:
    """One id per row of ``logits`` (batch, vocab): softmax(logits / temperature) over the top k."""
    rng = rng if rng is not None else np.random.default_rng()
    logits = np.asarray(logits, dtype="float64") / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    logits = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=-1, keepdims=True)
    return np.array([rng.choice(len(p), p=p) for p in probs], dtype="int32")


def as_prompt_ids(prompt, vocab_size, vocabulary: CharVocabulary | None, model_name):
    """``prompt`` (text, or a sequence of ids) as a 1-D int32 array, checked against the vocabulary."""
    if isinstance(prompt, str):
        if vocabulary is None:
            raise ValueError(
                f"{model_name}: invalid prompt={prompt[:20]!r}: this model has no character vocabulary; "
                "expected a sequence of token ids (or build the model with vocabulary=...)"
            )
        return vocabulary.encode(prompt)
    ids = np.asarray(prompt)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        fail("prompt", prompt, "a string or a 1-D sequence of token ids", model_name)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(
            f"{model_name}: invalid prompt: token ids must lie in [0, {vocab_size}), got {ids.min()}..{ids.max()}"
        )
    return ids.astype("int32")


def generate_tokens(step, prompt_ids, length, temperature=1.0, top_k=None, seed=None):
    """Decode ``length`` new ids after ``prompt_ids`` (1-D) with ``step(ids (1, t), state)``.

    ``step`` returns the logits of the last position, shape (1, vocab), and its new state;
    it is first called with the whole prompt and ``state=None``.
    """
    if len(prompt_ids) == 0:
        raise ValueError("invalid prompt: it is empty; expected at least one token")
    rng = np.random.default_rng(seed)
    logits, state = step(np.asarray(prompt_ids, dtype="int32")[None, :], None)
    out = []
    for i in range(length):
        nxt = sample_next(logits, temperature, top_k, rng)
        out.append(int(nxt[0]))
        if i + 1 < length:
            logits, state = step(nxt[None, :], state)
    return np.array(out, dtype="int32")
