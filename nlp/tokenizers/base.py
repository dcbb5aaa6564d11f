"""The interface every tokenizer shares (:class:`Tokenizer`), the special tokens, and the vocabulary-list base."""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Iterable

import numpy as np

from zoo.core.checks import check_bool, check_choice, check_int, check_path, fail, is_int
from zoo.core.io import atomic_write

__all__ = ["SPECIAL_TOKENS", "Tokenizer"]

SPECIAL_TOKENS = {"pad": "<pad>", "unk": "<unk>", "bos": "<s>", "eos": "</s>", "mask": "<mask>"}
_PADDING = (False, True, "longest", "max_length")
_FORMAT_VERSION = 1


def _as_texts(texts, argument="texts") -> list[str]:
    """Materialise an iterable of strings, rejecting a lone string and non-strings."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"invalid {argument}: expected an iterable of strings, got a single {type(texts).__name__}")
    if not hasattr(texts, "__iter__"):
        fail(argument, texts, "an iterable of strings (a list of texts)", error=TypeError)
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"invalid {argument}[{i}]={t!r}; expected str")
        out.append(t)
    return out


def _check_corpus(texts, argument="texts") -> list[str]:
    texts = _as_texts(texts, argument)
    if not any(t.strip() for t in texts):
        raise ValueError(f"{argument} is empty: a tokenizer needs at least one non-blank string to train on")
    return texts


def _check_options(add_bos, add_eos, max_length, padding):
    """The checks ``encode`` and ``tf_encode`` share."""
    check_bool("add_bos", add_bos)
    check_bool("add_eos", add_eos)
    check_int("max_length", max_length, 1, allow_none=True)
    check_choice("padding", padding, _PADDING)
    if padding == "max_length" and max_length is None:
        raise ValueError("padding='max_length' needs max_length=<int>")
    if max_length is not None and max_length < add_bos + add_eos:
        raise ValueError(f"invalid max_length={max_length}; expected at least {add_bos + add_eos} with add_bos/add_eos")


class Tokenizer:
    """Base class: ``encode``/``decode``/``save``/``load``/``__call__``/``as_layer`` for every tokenizer.

    Subclasses implement ``_encode_batch(texts, **options) -> list[list[int]]``,
    ``_decode_one(ids) -> str``, ``vocab_size``, ``id_to_token``, ``token_to_id``
    and ``_state()`` / ``_from_state(state)`` (JSON-serialisable).
    """

    kind = "base"
    _kinds: dict[str, type] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Tokenizer._kinds[cls.kind] = cls

    # -- ids of the special tokens -----------------------------------------------------------
    pad_id, unk_id, bos_id, eos_id, mask_id = 0, 1, 2, 3, 4

    @property
    def special_tokens(self) -> dict:
        """``{"pad": "<pad>", ...}``: the special tokens by role."""
        return {role: self.id_to_token(getattr(self, f"{role}_id")) for role in SPECIAL_TOKENS}

    @property
    def special_ids(self) -> dict:
        return {role: getattr(self, f"{role}_id") for role in SPECIAL_TOKENS}

    def __len__(self):
        return self.vocab_size

    def _check_id(self, i) -> int:
        """``i`` as an ``int``, if it is an id of this vocabulary."""
        if not is_int(i):
            fail("id", i, f"an integer id in [0, {self.vocab_size})", error=TypeError)
        if not 0 <= int(i) < self.vocab_size:
            raise ValueError(f"invalid id={i!r}; expected 0 <= id < vocab_size={self.vocab_size}")
        return int(i)

    # -- encoding ------------------------------------------------------------------------------
    def encode(self, text, *, add_bos=False, add_eos=False, max_length=None, padding=False, **options):
        """Token ids of a string (``list[int]``) or of a list of strings.

        ``max_length`` truncates (keeping bos/eos); ``padding="max_length"`` pads
        with ``pad_id`` to ``max_length``, ``padding="longest"`` (or ``True``) to
        the longest in the batch. A padded batch is an int32 array ``(n, length)``;
        an unpadded batch is a list of lists.
        """
        single = isinstance(text, str)
        if not single and not hasattr(text, "__iter__"):
            fail("text", text, "a string or a list of strings", error=TypeError)
        texts = [text] if single else _as_texts(text, "text")
        _check_options(add_bos, add_eos, max_length, padding)
        prefix = [self.bos_id] if add_bos else []
        suffix = [self.eos_id] if add_eos else []
        batch = self._encode_batch(texts, **options)
        room = None if max_length is None else max_length - len(prefix) - len(suffix)
        if prefix or suffix or room is not None:
            batch = [prefix + list(ids[:room] if room is not None else ids) + suffix for ids in batch]
        if padding:
            width = max_length if padding == "max_length" else max([len(ids) for ids in batch] + [0])
            out = np.full((len(batch), width), self.pad_id, dtype=np.int32)
            for row, ids in zip(out, batch):
                row[: len(ids)] = ids
            return out[0] if single else out
        return batch[0] if single else batch

    def decode(self, ids, skip_special_tokens=True):
        """Text of a 1-D id sequence (``str``) or of a 2-D batch (``list[str]``); pad, bos and eos are dropped."""
        check_bool("skip_special_tokens", skip_special_tokens)
        if ids is None or isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__") and not hasattr(ids, "numpy"):
            fail("ids", ids, "a 1-D or 2-D sequence of integer ids (a list, an array or a tensor)", error=TypeError)
        arr = np.asarray(ids.numpy() if hasattr(ids, "numpy") else ids)
        if arr.size == 0 and arr.ndim <= 1:
            return ""
        if arr.ndim not in (1, 2) or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"invalid ids with shape {arr.shape} and dtype {arr.dtype}; "
                             "expected a 1-D or 2-D sequence of integers")
        bad = (arr < 0) | (arr >= self.vocab_size)
        if bad.any():
            raise ValueError(f"invalid ids: {arr[bad][:5].tolist()} outside [0, {self.vocab_size}) (vocab_size)")
        if arr.ndim == 2:
            return [self.decode(row, skip_special_tokens) for row in arr]
        drop = {self.pad_id} | ({self.bos_id, self.eos_id} if skip_special_tokens else set())
        return self._decode_one([int(i) for i in arr if int(i) not in drop])

    # -- TensorFlow ----------------------------------------------------------------------------
    def __call__(self, text, max_length=None, padding=False, add_bos=False, add_eos=False):
        """``encode`` for Python strings; for a string tensor (``dataset.map(tok)``) an int32 tensor.

        A scalar string tensor gives a 1-D tensor, a 1-D batch a padded 2-D tensor
        (to the longest, or to ``max_length`` with ``padding="max_length"``).
        """
        if isinstance(text, str) or (isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text)):
            return self.encode(text, max_length=max_length, padding=padding, add_bos=add_bos, add_eos=add_eos)
        return self.tf_encode(text, max_length=max_length, padding=padding, add_bos=add_bos, add_eos=add_eos)

    def tf_encode(self, text, max_length=None, padding=False, add_bos=False, add_eos=False):
        """Encode a scalar or 1-D ``tf.string`` tensor inside a graph, in TensorFlow ops (no ``tf.py_function``).

        The ids are the Python ``encode``'s (see :mod:`nlp.tokenizers.native`); a
        SentencePiece tokenizer with ``enable_sampling`` samples here too.
        """
        import tensorflow as tf

        _check_options(add_bos, add_eos, max_length, padding)
        try:
            text = tf.convert_to_tensor(text, dtype=tf.string)
        except (TypeError, ValueError):
            fail("text", text, "a string, a list of strings or a tf.string tensor", error=TypeError)
        if text.shape.rank not in (0, 1):
            raise ValueError(f"invalid text tensor of shape {text.shape}; expected a scalar or a 1-D batch of strings")
        if self.__dict__.get("_native") is None:
            from nlp.tokenizers.native import native

            self._native = native(self)
        return self._native(text, max_length=max_length, padding=padding or (text.shape.rank == 1 and "longest"),
                            add_bos=add_bos, add_eos=add_eos, training=True)

    def as_layer(self, sequence_length=None, add_bos=False, add_eos=False, name=None):
        """A Keras preprocessing layer mapping strings to ids (padded to ``sequence_length`` if given).

        It runs in TensorFlow ops (:mod:`nlp.tokenizers.native`), so a model that
        starts with it takes raw strings, runs in tf.data and exports to a SavedModel.
        """
        from nlp.tokenizers.layer import TokenizerLayer

        return TokenizerLayer(self.to_dict(), sequence_length=sequence_length, add_bos=add_bos, add_eos=add_eos,
                              name=name)

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": "dlzoo-tokenizer", "version": _FORMAT_VERSION, "type": self.kind, "state": self._state()}

    @classmethod
    def from_dict(cls, payload: dict) -> Tokenizer:
        if not isinstance(payload, dict) or payload.get("format") != "dlzoo-tokenizer":
            raise ValueError("invalid tokenizer payload: expected a dict saved by Tokenizer.save "
                             "(format 'dlzoo-tokenizer')")
        kind = payload.get("type")
        if kind not in Tokenizer._kinds or kind == "base":
            known = sorted(k for k in Tokenizer._kinds if k != "base")
            raise ValueError(f"invalid tokenizer type={kind!r}; expected one of {known}")
        target = Tokenizer._kinds[kind]
        if cls is not Tokenizer and target is not cls:
            raise ValueError(f"the file holds a {target.__name__}, not a {cls.__name__}; "
                             f"load it with {target.__name__}.load or Tokenizer.load")
        return target._from_state(payload["state"])

    def save(self, path: str) -> str:
        """Write the tokenizer as JSON (atomically); ``Tokenizer.load(path)`` gives the same ids."""
        check_path("path", path, "save")
        atomic_write(path, json.dumps(self.to_dict(), ensure_ascii=False))
        return path

    @classmethod
    def load(cls, path: str) -> Tokenizer:
        check_path("path", path, f"{cls.__name__}.load", accepted="a path to a tokenizer file")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"tokenizer file path={path!r} does not exist")
        with open(path, "rb") as f:
            data = f.read()
        try:
            payload = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            from nlp.tokenizers.sentencepiece import SentencePieceTokenizer

            if cls is SentencePieceTokenizer or cls is Tokenizer:
                return SentencePieceTokenizer.from_model_proto(data, source=path)
            raise ValueError(f"could not read tokenizer file {path!r}: "
                             f"not a JSON file saved by Tokenizer.save ({err})") from None
        return cls.from_dict(payload)

    def __repr__(self):
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"


class _VocabTokenizer(Tokenizer):
    """A tokenizer with an explicit token list: ids 0-4 are the special tokens, then ``tokens``."""

    def __init__(self, tokens: Iterable[str]):
        if not hasattr(tokens, "__iter__"):
            fail("tokens", tokens, "an iterable of token strings", type(self).__name__, error=TypeError)
        tokens = list(tokens)
        specials = list(SPECIAL_TOKENS.values())
        clash = [t for t in tokens if t in specials]
        if clash:
            raise ValueError(f"invalid tokens: {clash} are reserved special tokens {specials}")
        if len(set(tokens)) != len(tokens):
            dup = [t for t, n in collections.Counter(tokens).items() if n > 1][:5]
            raise ValueError(f"invalid tokens: duplicates {dup}")
        self._tokens = specials + tokens
        self._index = {t: i for i, t in enumerate(self._tokens)}

    @property
    def vocab_size(self) -> int:
        return len(self._tokens)

    @property
    def vocab(self) -> list[str]:
        """Every token, in id order (special tokens first)."""
        return list(self._tokens)

    def id_to_token(self, i: int) -> str:
        return self._tokens[self._check_id(i)]

    def token_to_id(self, token: str) -> int:
        """The id of ``token``, or ``unk_id`` when it is not in the vocabulary."""
        return self._index.get(token, self.unk_id)

    def _ids(self, tokens):
        get, unk = self._index.get, self.unk_id
        return [get(t, unk) for t in tokens]

    @staticmethod
    def _select(counts: collections.Counter, max_vocab, min_frequency, argument):
        check_int("max_vocab", max_vocab, 1, allow_none=True)
        check_int("min_frequency", min_frequency, 1)
        for token in SPECIAL_TOKENS.values():
            counts.pop(token, None)
        kept = [t for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_frequency]
        if not kept:
            raise ValueError(f"min_frequency={min_frequency} leaves no token in {argument} (the most frequent occurs "
                             f"{max(counts.values(), default=0)} times)")
        return kept[:max_vocab] if max_vocab else kept

