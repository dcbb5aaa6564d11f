"""SentencePiece subword tokenizer (BPE, unigram, char, word), trained in memory."""

from __future__ import annotations

import base64
import io
import re

from nlp.tokenizers.base import SPECIAL_TOKENS, Tokenizer, _check_corpus
from zoo.core.checks import check_choice, check_int, check_number, check_path, fail
from zoo.core.io import atomic_write

__all__ = ["SentencePieceTokenizer"]

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
    return _UNESCAPE.sub(lambda m: _ESC if m.group(1) == _ESC else (_SPACE_MARK if m.group(1) == "_" else m.group(0)),
                         text)


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

        if not isinstance(model_proto, (bytes, bytearray)):
            fail("model_proto", model_proto, "the bytes of a SentencePiece model (SentencePieceTokenizer.load reads a "
                 "file)", "SentencePieceTokenizer", error=TypeError)
        if not model_proto:
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
        check_number("alpha", alpha, 0, 1)
        if not isinstance(nbest_size, int) or nbest_size == 0 or nbest_size < -1:
            fail("nbest_size", nbest_size, "-1 (all segmentations) or a positive integer")

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
        check_int("vocab_size", vocab_size, 1)
        check_choice("model_type", model_type, cls.MODEL_TYPES)
        check_number("character_coverage", character_coverage, 0, 1, low_open=True)
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
            raise ValueError(f"could not read tokenizer file {source!r}: "
                             f"neither a JSON tokenizer nor a SentencePiece model ({err})") from None

    def save_model_proto(self, path: str) -> str:
        """Write the raw SentencePiece ``.model`` bytes (readable by ``sentencepiece`` itself)."""
        check_path("path", path, "save_model_proto")
        atomic_write(path, self._proto)
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
        return self._sp.id_to_piece(self._check_id(i))

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
