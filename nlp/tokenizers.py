"""Tokenizers with one interface: word, character and SentencePiece (BPE, unigram).

>>> tok = SentencePieceTokenizer.train(texts, vocab_size=8000, model_type="bpe")
>>> ids = tok.encode("Hello world")                 # list[int]
>>> batch = tok.encode(["a", "b c"], max_length=16, padding="max_length")  # int32 array (2, 16)
>>> tok.decode(ids)                                 # "Hello world"
>>> ds = tf.data.Dataset.from_tensor_slices(texts).map(tok)   # tf.data: a 1-D int32 tensor each
>>> layer = tok.as_layer(sequence_length=64)        # Keras preprocessing layer: strings -> ids
>>> tok.save("tok.json"); Tokenizer.load("tok.json")

Every tokenizer has the special tokens ``pad`` (id 0), ``unk`` (1), ``bos`` (2),
``eos`` (3) and ``mask`` (4), ``vocab_size``, ``id_to_token``, ``token_to_id``,
``encode`` (a string or a list of strings; ``add_bos``/``add_eos``, truncation to
``max_length``, padding to the ``"longest"`` or to ``"max_length"``), ``decode``
(pad, bos and eos are dropped; unk and mask decode to their token string),
``save``/``load`` (JSON, never pickle), ``__call__`` (Python strings or string
tensors, so ``dataset.map(tok)`` works) and ``as_layer``.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import os
import re
from typing import Iterable

import keras
import numpy as np

__all__ = [
    "Tokenizer",
    "WordTokenizer",
    "CharTokenizer",
    "SentencePieceTokenizer",
    "TokenizerLayer",
    "SPECIAL_TOKENS",
]

SPECIAL_TOKENS = {"pad": "<pad>", "unk": "<unk>", "bos": "<s>", "eos": "</s>", "mask": "<mask>"}
_PADDING = (False, True, "longest", "max_length")
_FORMAT_VERSION = 1


def _atomic_write_bytes(path, data: bytes):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _as_texts(texts, argument="texts") -> list[str]:
    """Materialise an iterable of strings, rejecting a lone string and non-strings."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"invalid {argument}: expected an iterable of strings, got a single {type(texts).__name__}")
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


def _check_positive_int(name, value, allow_none=True, minimum=1):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"invalid {name}={value!r}; expected an integer >= {minimum}" + (" or None" if allow_none else ""))


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

    # -- encoding ------------------------------------------------------------------------------
    def encode(self, text, *, add_bos=False, add_eos=False, max_length=None, padding=False, **options):
        """Token ids of a string (``list[int]``) or of a list of strings.

        ``max_length`` truncates (keeping bos/eos); ``padding="max_length"`` pads
        with ``pad_id`` to ``max_length``, ``padding="longest"`` (or ``True``) to
        the longest in the batch. A padded batch is an int32 array ``(n, length)``;
        an unpadded batch is a list of lists.
        """
        single = isinstance(text, str)
        texts = [text] if single else _as_texts(text, "text")
        _check_positive_int("max_length", max_length)
        if padding not in _PADDING:
            raise ValueError(f"invalid padding={padding!r}; expected one of {_PADDING}")
        if padding == "max_length" and max_length is None:
            raise ValueError("padding='max_length' needs max_length=<int>")
        prefix = [self.bos_id] if add_bos else []
        suffix = [self.eos_id] if add_eos else []
        if max_length is not None and max_length < len(prefix) + len(suffix):
            raise ValueError(f"invalid max_length={max_length}; expected at least {len(prefix) + len(suffix)} with add_bos/add_eos")
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
        arr = np.asarray(ids.numpy() if hasattr(ids, "numpy") else ids)
        if arr.size == 0 and arr.ndim <= 1:
            return ""
        if arr.ndim not in (1, 2) or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"invalid ids with shape {arr.shape} and dtype {arr.dtype}; expected a 1-D or 2-D sequence of integers")
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
        """Encode a scalar or 1-D ``tf.string`` tensor inside a graph (``tf.py_function``)."""
        import tensorflow as tf

        text = tf.convert_to_tensor(text, dtype=tf.string)
        rank = text.shape.rank
        if rank not in (0, 1):
            raise ValueError(f"invalid text tensor of shape {text.shape}; expected a scalar or a 1-D batch of strings")
        kwargs = dict(max_length=max_length, add_bos=add_bos, add_eos=add_eos)
        batch_padding = padding or "longest"

        @tf.autograph.experimental.do_not_convert
        def run(t):
            arr = t.numpy()
            if rank == 0:
                return np.asarray(self.encode(arr.decode("utf-8", "replace"), padding=padding, **kwargs), np.int32)
            out = self.encode([b.decode("utf-8", "replace") for b in arr], padding=batch_padding, **kwargs)
            return np.asarray(out, np.int32).reshape(len(arr), -1)

        ids = tf.py_function(run, [text], tf.int32)
        width = max_length if padding == "max_length" else None
        ids.set_shape([width] if rank == 0 else [text.shape[0], width])
        return ids

    def as_layer(self, sequence_length=None, add_bos=False, add_eos=False, name=None):
        """A Keras preprocessing layer mapping strings to ids (padded to ``sequence_length`` if given)."""
        return TokenizerLayer(self.to_dict(), sequence_length=sequence_length, add_bos=add_bos, add_eos=add_eos, name=name)

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": "dlzoo-tokenizer", "version": _FORMAT_VERSION, "type": self.kind, "state": self._state()}

    @classmethod
    def from_dict(cls, payload: dict) -> "Tokenizer":
        if not isinstance(payload, dict) or payload.get("format") != "dlzoo-tokenizer":
            raise ValueError("invalid tokenizer payload: expected a dict saved by Tokenizer.save (format 'dlzoo-tokenizer')")
        kind = payload.get("type")
        if kind not in Tokenizer._kinds or kind == "base":
            raise ValueError(f"invalid tokenizer type={kind!r}; expected one of {sorted(k for k in Tokenizer._kinds if k != 'base')}")
        target = Tokenizer._kinds[kind]
        if cls is not Tokenizer and target is not cls:
            raise ValueError(f"the file holds a {target.__name__}, not a {cls.__name__}; load it with {target.__name__}.load or Tokenizer.load")
        return target._from_state(payload["state"])

    def save(self, path: str) -> str:
        """Write the tokenizer as JSON (atomically); ``Tokenizer.load(path)`` gives the same ids."""
        _atomic_write_bytes(path, json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8"))
        return path

    @classmethod
    def load(cls, path: str) -> "Tokenizer":
        if not os.path.isfile(path):
            raise FileNotFoundError(f"tokenizer file path={path!r} does not exist")
        with open(path, "rb") as f:
            data = f.read()
        try:
            payload = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            if cls is SentencePieceTokenizer or cls is Tokenizer:
                return SentencePieceTokenizer.from_model_proto(data, source=path)
            raise ValueError(f"could not read tokenizer file {path!r}: not a JSON file saved by Tokenizer.save ({err})") from None
        return cls.from_dict(payload)

    def __repr__(self):
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"


class _VocabTokenizer(Tokenizer):
    """A tokenizer with an explicit token list: ids 0-4 are the special tokens, then ``tokens``."""

    def __init__(self, tokens: Iterable[str]):
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
        if not 0 <= int(i) < len(self._tokens):
            raise ValueError(f"invalid id={i!r}; expected 0 <= id < vocab_size={self.vocab_size}")
        return self._tokens[int(i)]

    def token_to_id(self, token: str) -> int:
        """The id of ``token``, or ``unk_id`` when it is not in the vocabulary."""
        return self._index.get(token, self.unk_id)

    def _ids(self, tokens):
        get, unk = self._index.get, self.unk_id
        return [get(t, unk) for t in tokens]

    @staticmethod
    def _select(counts: collections.Counter, max_vocab, min_frequency, argument):
        _check_positive_int("max_vocab", max_vocab, minimum=1)
        _check_positive_int("min_frequency", min_frequency, allow_none=False)
        for token in SPECIAL_TOKENS.values():
            counts.pop(token, None)
        kept = [t for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_frequency]
        if not kept:
            raise ValueError(f"min_frequency={min_frequency} leaves no token in {argument} (the most frequent occurs "
                             f"{max(counts.values(), default=0)} times)")
        return kept[:max_vocab] if max_vocab else kept


class WordTokenizer(_VocabTokenizer):
    """Words, with configurable lowercasing and punctuation rules; unknown words map to ``<unk>``.

    ``punctuation``: ``"split"`` (each punctuation mark is a token), ``"strip"``
    (dropped), ``"keep"`` (split on whitespace only, punctuation stays attached).
    Special-token strings in the text (``"<mask>"``) map to their ids.
    ``decode`` joins words with single spaces (whitespace is not kept).
    """

    kind = "word"
    PUNCTUATION = {"split": r"\w+(?:['’]\w+)*|[^\w\s]", "strip": r"\w+(?:['’]\w+)*", "keep": r"\S+"}

    def __init__(self, tokens, lowercase=True, punctuation="split"):
        if punctuation not in self.PUNCTUATION:
            raise ValueError(f"invalid punctuation={punctuation!r}; expected one of {list(self.PUNCTUATION)}")
        super().__init__(tokens)
        self.lowercase = bool(lowercase)
        self.punctuation = punctuation
        specials = "|".join(re.escape(t) for t in SPECIAL_TOKENS.values())
        self._pattern = re.compile(f"{specials}|{self.PUNCTUATION[punctuation]}")

    @classmethod
    def train(cls, texts, max_vocab=None, min_frequency=1, lowercase=True, punctuation="split"):
        """Vocabulary of the ``max_vocab`` most frequent words seen at least ``min_frequency`` times."""
        texts = _check_corpus(texts)
        probe = cls([], lowercase=lowercase, punctuation=punctuation)
        counts = collections.Counter(w for t in texts for w in probe.split(t))
        return cls(cls._select(counts, max_vocab, min_frequency, "texts"), lowercase=lowercase, punctuation=punctuation)

    def split(self, text: str) -> list[str]:
        """The words of ``text`` under this tokenizer's rules (before the vocabulary lookup)."""
        specials = SPECIAL_TOKENS.values()
        return [w if w in specials else (w.lower() if self.lowercase else w) for w in self._pattern.findall(text)]

    def _encode_batch(self, texts):
        return [self._ids(self.split(t)) for t in texts]

    def _decode_one(self, ids):
        return " ".join(self._tokens[i] for i in ids)

    def _state(self):
        return {"tokens": self._tokens[len(SPECIAL_TOKENS):], "lowercase": self.lowercase, "punctuation": self.punctuation}

    @classmethod
    def _from_state(cls, state):
        return cls(state["tokens"], lowercase=state["lowercase"], punctuation=state["punctuation"])


class CharTokenizer(_VocabTokenizer):
    """Unicode code points: one token per character, unseen characters map to ``<unk>``.

    ``decode(encode(s)) == s`` whenever every character of ``s`` is in the vocabulary.
    """

    kind = "char"

    def __init__(self, chars):
        chars = list(chars)
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"invalid chars: {bad[:5]!r}; expected single characters")
        super().__init__(chars)

    @classmethod
    def train(cls, texts, max_vocab=None, min_frequency=1):
        """Vocabulary of the characters of ``texts`` by decreasing frequency (ties by code point)."""
        texts = _check_corpus(texts)
        counts = collections.Counter()
        for t in texts:
            counts.update(t)
        return cls(cls._select(counts, max_vocab, min_frequency, "texts"))

    def _encode_batch(self, texts):
        return [self._ids(t) for t in texts]

    def _decode_one(self, ids):
        return "".join(self._tokens[i] for i in ids)

    def _state(self):
        return {"chars": self._tokens[len(SPECIAL_TOKENS):]}

    @classmethod
    def _from_state(cls, state):
        return cls(state["chars"])


# SentencePiece turns spaces into U+2581 and back, so a literal U+2581 cannot survive a
# round trip. We escape it (and the escape character, U+E000, by doubling) before the
# model sees the text, and undo that after decoding.
_SPACE_MARK, _ESC = "\u2581", "\ue000"
_UNESCAPE = re.compile(f"{_ESC}(.)", re.S)


def _escape(text):
    if _ESC in text or _SPACE_MARK in text:
        text = text.replace(_ESC, _ESC + _ESC).replace(_SPACE_MARK, _ESC + "_")
    return text


def _unescape(text):
    if _ESC not in text:
        return text
    return _UNESCAPE.sub(lambda m: _ESC if m.group(1) == _ESC else (_SPACE_MARK if m.group(1) == "_" else m.group(0)), text)


class SentencePieceTokenizer(Tokenizer):
    """Subwords from the ``sentencepiece`` package: BPE or unigram, trained in memory.

    With ``byte_fallback=True`` (the default) a character outside the vocabulary
    becomes its UTF-8 bytes (``<0xNN>`` pieces), so no input is ever unknown and
    ``decode(encode(s)) == s`` for any string (normalisation is ``"identity"``
    and whitespace is kept as is by default).

    ``enable_sampling=True`` makes ``encode`` (and so ``dataset.map(tok)``) sample
    a segmentation each call: subword regularisation (unigram, ``nbest_size=-1``
    samples from all segmentations, ``alpha`` is the smoothing) or BPE-dropout
    (``alpha`` is the merge dropout probability). Use it for training data only.
    """

    kind = "sentencepiece"
    MODEL_TYPES = ("bpe", "unigram", "char", "word")

    def __init__(self, model_proto: bytes, enable_sampling=False, alpha=0.1, nbest_size=-1):
        import sentencepiece as spm

        if not isinstance(model_proto, (bytes, bytearray)) or not model_proto:
            raise ValueError("invalid model_proto: expected the non-empty bytes of a SentencePiece model")
        self._check_sampling(alpha, nbest_size)
        self._proto = bytes(model_proto)
        self._sp = spm.SentencePieceProcessor()
        try:
            self._sp.LoadFromSerializedProto(self._proto)
        except Exception as err:  # the C++ side raises RuntimeError/OSError on a bad proto
            raise ValueError(f"could not read the SentencePiece model proto ({err})") from None
        self.enable_sampling = bool(enable_sampling)
        self.alpha = float(alpha)
        self.nbest_size = int(nbest_size)
        sp = self._sp
        self.pad_id, self.unk_id, self.bos_id, self.eos_id = sp.pad_id(), sp.unk_id(), sp.bos_id(), sp.eos_id()
        self.mask_id = sp.piece_to_id(SPECIAL_TOKENS["mask"])
        if self.mask_id == self.unk_id:
            self.mask_id = -1  # a model trained elsewhere without a <mask> symbol

    @staticmethod
    def _check_sampling(alpha, nbest_size):
        if not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
            raise ValueError(f"invalid alpha={alpha!r}; expected a number in [0, 1]")
        if not isinstance(nbest_size, int) or nbest_size == 0 or nbest_size < -1:
            raise ValueError(f"invalid nbest_size={nbest_size!r}; expected -1 (all segmentations) or a positive integer")

    @classmethod
    def train(cls, texts, vocab_size=8000, model_type="bpe", byte_fallback=True, character_coverage=1.0,
              hard_vocab_limit=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
              max_sentence_length=1 << 16, enable_sampling=False, alpha=0.1, nbest_size=-1, num_threads=2,
              **trainer_options):
        """Train on ``texts`` in memory (``model_writer=io.BytesIO()``); nothing is written to disk.

        ``vocab_size`` includes the 5 special tokens and, with ``byte_fallback``,
        the 256 byte pieces. With ``hard_vocab_limit=True`` (the default) a corpus
        too small for ``vocab_size`` raises ``ValueError`` giving the largest size
        it allows; ``hard_vocab_limit=False`` makes ``vocab_size`` an upper bound
        instead, and the trained vocabulary may be smaller (``tok.vocab_size``
        tells). Other keyword arguments go to ``SentencePieceTrainer``.
        """
        import sentencepiece as spm

        texts = _check_corpus(texts)
        _check_positive_int("vocab_size", vocab_size, allow_none=False)
        if model_type not in cls.MODEL_TYPES:
            raise ValueError(f"invalid model_type={model_type!r}; expected one of {list(cls.MODEL_TYPES)}")
        if not 0 < character_coverage <= 1:
            raise ValueError(f"invalid character_coverage={character_coverage!r}; expected a number in (0, 1]")
        cls._check_sampling(alpha, nbest_size)
        reserved = {"pad_id", "unk_id", "bos_id", "eos_id", "user_defined_symbols", "model_writer", "model_prefix"}
        clash = sorted(reserved & set(trainer_options))
        if clash:
            raise ValueError(f"invalid trainer options {clash}: the special tokens and the in-memory writer are fixed")
        writer = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter([_escape(t) for t in texts if t]),
                model_writer=writer,
                vocab_size=int(vocab_size),
                model_type=model_type,
                byte_fallback=bool(byte_fallback),
                character_coverage=float(character_coverage),
                hard_vocab_limit=bool(hard_vocab_limit),
                normalization_rule_name=normalization_rule_name,
                remove_extra_whitespaces=bool(remove_extra_whitespaces),
                max_sentence_length=int(max_sentence_length),
                num_threads=int(num_threads),
                pad_id=0, unk_id=1, bos_id=2, eos_id=3,
                pad_piece=SPECIAL_TOKENS["pad"], unk_piece=SPECIAL_TOKENS["unk"],
                bos_piece=SPECIAL_TOKENS["bos"], eos_piece=SPECIAL_TOKENS["eos"],
                user_defined_symbols=[SPECIAL_TOKENS["mask"]],
                minloglevel=2,
                **trainer_options,
            )
        except RuntimeError as err:
            raise cls._explain(err, vocab_size, model_type, byte_fallback) from None
        return cls(writer.getvalue(), enable_sampling=enable_sampling, alpha=alpha, nbest_size=nbest_size)

    @staticmethod
    def _explain(err, vocab_size, model_type, byte_fallback):
        msg = str(err)
        high = re.search(r"Vocabulary size too high \((\d+)\).*<= (\d+)", msg)
        if high:
            return ValueError(
                f"invalid vocab_size={vocab_size}: this corpus supports at most {high.group(2)} pieces for "
                f"model_type={model_type!r}. Pass vocab_size<={high.group(2)}, more text, or hard_vocab_limit=False "
                f"to make vocab_size an upper bound (the trained vocabulary is then smaller; see tok.vocab_size)")
        low = re.search(r"smaller than required_chars\. (\d+) vs (\d+)", msg)
        if low:
            extra = " (with byte_fallback=True that includes 256 byte pieces)" if byte_fallback else ""
            return ValueError(
                f"invalid vocab_size={vocab_size}: the special tokens and every character of the corpus need "
                f"{low.group(2)} pieces{extra}; pass vocab_size>={low.group(2)} or a lower character_coverage")
        return ValueError(f"SentencePiece training failed: {msg}")

    @classmethod
    def from_model_proto(cls, data: bytes, source="model_proto", **config):
        """A tokenizer from the bytes of a ``.model`` file (from ``spm_train`` or ``save_model_proto``)."""
        try:
            return cls(data, **config)
        except ValueError as err:
            raise ValueError(f"could not read tokenizer file {source!r}: neither a JSON tokenizer nor a SentencePiece model ({err})") from None

    def save_model_proto(self, path: str) -> str:
        """Write the raw SentencePiece ``.model`` bytes (readable by ``sentencepiece`` itself)."""
        _atomic_write_bytes(path, self._proto)
        return path

    @property
    def model_proto(self) -> bytes:
        return self._proto

    @property
    def processor(self):
        """The underlying ``sentencepiece.SentencePieceProcessor``."""
        return self._sp

    @property
    def vocab_size(self) -> int:
        return self._sp.get_piece_size()

    def id_to_token(self, i: int) -> str:
        if not 0 <= int(i) < self.vocab_size:
            raise ValueError(f"invalid id={i!r}; expected 0 <= id < vocab_size={self.vocab_size}")
        return self._sp.id_to_piece(int(i))

    def token_to_id(self, token: str) -> int:
        """The id of the piece ``token`` (``unk_id`` when it is not a piece)."""
        return self._sp.piece_to_id(token)

    def encode_as_pieces(self, text: str) -> list[str]:
        return [self.id_to_token(i) for i in self.encode(text)]

    def _encode_batch(self, texts, enable_sampling=None, alpha=None, nbest_size=None):
        sample = self.enable_sampling if enable_sampling is None else bool(enable_sampling)
        kwargs = {}
        if sample:
            alpha = self.alpha if alpha is None else alpha
            nbest_size = self.nbest_size if nbest_size is None else nbest_size
            self._check_sampling(alpha, nbest_size)
            kwargs = dict(enable_sampling=True, alpha=float(alpha), nbest_size=int(nbest_size))
        return self._sp.encode([_escape(t) for t in texts], out_type=int, **kwargs)

    def _decode_one(self, ids):
        return _unescape(self._sp.decode(ids))

    def _state(self):
        return {"model_proto": base64.b64encode(self._proto).decode("ascii"), "enable_sampling": self.enable_sampling,
                "alpha": self.alpha, "nbest_size": self.nbest_size}

    @classmethod
    def _from_state(cls, state):
        return cls(base64.b64decode(state["model_proto"]), enable_sampling=state["enable_sampling"],
                   alpha=state["alpha"], nbest_size=state["nbest_size"])


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
        self.tokenizer = tokenizer if isinstance(tokenizer, Tokenizer) else Tokenizer.from_dict(tokenizer)
        _check_positive_int("sequence_length", sequence_length)
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
