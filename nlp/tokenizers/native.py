"""TF-native tokenizers: the Python tokenizers' ids from TensorFlow ops alone (no ``tf.py_function``).

A graph built from these runs in tf.data, inside a Keras model and in a
SavedModel loaded by another process (or TensorFlow Serving):

- SentencePiece runs tensorflow-text's SentencePiece ops (what
  ``tensorflow_text.SentencepieceTokenizer`` runs) on the same model proto, after
  the same escaping of ``▁`` as the Python path;
- words: one ``tf.strings.regex_replace`` marks every match of the Python
  pattern (its ``\\w``/``\\s`` spelled out as code point ranges, see
  :mod:`nlp.tokenizers.unicode_rules`), ``tf.strings.split`` cuts there,
  lowercasing is a ``tf.lookup.StaticHashTable`` of characters and the
  vocabulary another one (unknown words: ``unk_id``);
- characters: ``tf.strings.unicode_split`` and the vocabulary table.

Input that is not valid UTF-8 is first repaired with U+FFFD, as the Python path
decodes bytes with ``errors="replace"``. Only core TensorFlow ops are used for
words and characters; SentencePiece needs ``import tensorflow_text`` in the
process that loads the graph.
"""

from __future__ import annotations

import abc
import re

import tensorflow as tf

from nlp.tokenizers.base import SPECIAL_TOKENS
from nlp.tokenizers.unicode_rules import lower_map, re2_class, space_ranges, word_ranges

__all__ = ["NativeTokenizer", "native"]

_MARK = b"\xff"  # never in valid UTF-8: marks token starts, and "no entry" in the lowercase table


def _valid_utf8(texts):
    return tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)


class NativeTokenizer(tf.Module, metaclass=abc.ABCMeta):
    """Strings -> int32 ids in TensorFlow ops, with the Python ``encode``'s bos/eos, truncation and padding."""

    def __init__(self, tokenizer, name=None):
        super().__init__(name=name)
        self.pad_id, self.bos_id, self.eos_id = int(tokenizer.pad_id), int(tokenizer.bos_id), int(tokenizer.eos_id)

    @staticmethod
    def _column(token_id, ids):
        return tf.RaggedTensor.from_tensor(tf.fill([ids.nrows(), 1], tf.constant(token_id, tf.int32)))

    @abc.abstractmethod
    def ids(self, texts, training=False):
        """A ragged int32 ``(n, None)`` tensor: the ids of each string of the 1-D ``texts``."""

    def __call__(self, texts, max_length=None, padding="longest", add_bos=False, add_eos=False, training=False):
        """Ids of a scalar (1-D result), a 1-D batch or an ``(n, 1)`` batch of strings.

        ``padding``: ``"max_length"`` (pad and cut to ``max_length``), ``"longest"``
        / ``True`` (a dense batch), ``False`` (a ragged batch; a 1-D tensor for a scalar).
        """
        texts = tf.convert_to_tensor(texts, tf.string)
        rank = texts.shape.rank
        if rank == 2 and texts.shape[-1] == 1:
            texts = tf.squeeze(texts, -1)
        elif rank not in (0, 1):
            raise ValueError(f"invalid text tensor of shape {texts.shape}; expected a scalar, a 1-D batch of strings "
                             "or a (batch, 1) column of strings")
        ids = self.ids(_valid_utf8(tf.reshape(texts, [-1])), training=training)
        if max_length is not None:
            ids = ids[:, : max_length - int(add_bos) - int(add_eos)]
        if add_bos or add_eos:
            ids = tf.concat([self._column(self.bos_id, ids)] * add_bos + [ids] + [self._column(self.eos_id, ids)] * add_eos,
                            axis=1)
        if rank == 0 and padding != "max_length":
            return ids.flat_values
        if padding == "max_length":
            out = ids.to_tensor(default_value=self.pad_id, shape=[None, max_length])
        elif padding:
            out = ids.to_tensor(default_value=self.pad_id)
        else:
            return ids
        return out[0] if rank == 0 else out


class SentencePieceNative(NativeTokenizer):
    """tensorflow-text's SentencePiece ops on the tokenizer's model proto (sampling when training).

    The model op runs inside each graph (and each eager call) instead of once as a
    tracked resource: its resource belongs to the op's kernel, and TensorFlow drops
    eager kernels whenever the cache is cleared (``tf.random.set_seed``,
    ``keras.utils.set_random_seed``), which would leave a layer built earlier
    pointing at nothing. In a graph the kernel lives as long as the function.
    """

    def __init__(self, tokenizer, name=None):
        import tensorflow_text  # noqa: F401  (registers the ops)

        from nlp.tokenizers.sentencepiece import _ESC, _SPACE_MARK

        super().__init__(tokenizer, name=name)
        self._escapes = ((_ESC, _ESC + _ESC), (_SPACE_MARK, _ESC + "_"))
        self._model = tokenizer.model_proto
        self._sampling = (int(tokenizer.nbest_size), float(tokenizer.alpha)) if tokenizer.enable_sampling else None

    def ids(self, texts, training=False):
        from tensorflow_text.python.ops.sentencepiece_tokenizer import gen_sentencepiece_tokenizer as ops

        from zoo.core.quiet import silenced

        for old, new in self._escapes:
            texts = tf.strings.regex_replace(texts, re.escape(old), new)
        nbest, alpha = self._sampling if training and self._sampling else (0, 1.0)
        with silenced():  # the C++ "precompiled_charsmap is empty" line when an eager kernel loads the model
            model = ops.sentencepiece_op(model=self._model)
        values, splits = ops.sentencepiece_tokenize_op(model, texts, nbest, alpha, False, False, False, tf.int32)
        return tf.RaggedTensor.from_row_splits(values, splits, validate=False)


class _VocabNative(NativeTokenizer):
    """A vocabulary table: tokens -> ids, unknown ones -> ``unk_id``."""

    def __init__(self, tokenizer, name=None):
        super().__init__(tokenizer, name=name)
        tokens = tokenizer.vocab
        init = tf.lookup.KeyValueTensorInitializer(tf.constant(tokens, tf.string), tf.range(len(tokens), dtype=tf.int64))
        self.vocab = tf.lookup.StaticHashTable(init, default_value=int(tokenizer.unk_id))

    def lookup(self, tokens):
        return tokens.with_flat_values(tf.cast(self.vocab.lookup(tokens.flat_values), tf.int32))


class CharNative(_VocabNative):
    """Code points (``tf.strings.unicode_split``) looked up in the vocabulary."""

    def ids(self, texts, training=False):
        return self.lookup(tf.strings.unicode_split(texts, "UTF-8"))


def word_pattern(punctuation) -> str:
    """The RE2 form of the Python :class:`WordTokenizer` pattern (special tokens first)."""
    word, space = word_ranges(), space_ranges()
    w = re2_class(word)
    rules = {"split": f"{w}+(?:['’]{w}+)*|{re2_class(word, space, negate=True)}",
             "strip": f"{w}+(?:['’]{w}+)*",
             "keep": f"{re2_class(space, negate=True)}+"}
    specials = "|".join(re.escape(t) for t in SPECIAL_TOKENS.values())
    return f"{specials}|{rules[punctuation]}"


class WordNative(_VocabNative):
    """The word pattern's matches (everything else dropped), lowercased per character, looked up.

    ``regex_replace`` wraps each match in ``MARK``s (the whole match, ``\\0``, which
    RE2 finds with its DFA: no capture groups), so splitting at ``MARK`` gives
    gap, token, gap, ..., and the tokens are the odd pieces. Only the words that
    hold a character with a lowercase mapping go through the per-character table.
    """

    def __init__(self, tokenizer, name=None):
        super().__init__(tokenizer, name=name)
        self.pattern = word_pattern(tokenizer.punctuation)
        self.lowercase = tokenizer.lowercase
        if self.lowercase:
            table = lower_map()
            init = tf.lookup.KeyValueTensorInitializer(tf.constant([chr(c) for c in table]),
                                                       tf.constant(list(table.values())))
            self.lower = tf.lookup.StaticHashTable(init, default_value=_MARK)
            self.cased = f"(?s).*{re2_class(_runs(table))}.*"

    def _lowercase(self, words):
        chars = tf.strings.unicode_split(words, "UTF-8")
        low = self.lower.lookup(chars.flat_values)
        low = tf.where(tf.equal(low, _MARK), chars.flat_values, low)
        return tf.strings.reduce_join(chars.with_flat_values(low), axis=-1)

    def _lower_some(self, words):
        cased = tf.strings.regex_full_match(words, self.cased)
        change, keep = (tf.cast(tf.where(m)[:, 0], tf.int32) for m in (cased, ~cased))
        return tf.dynamic_stitch([keep, change], [tf.gather(words, keep), self._lowercase(tf.gather(words, change))])

    def ids(self, texts, training=False):
        marked = tf.strings.regex_replace(texts, self.pattern, _MARK + b"\\0" + _MARK)
        pieces = tf.strings.split(marked, sep=_MARK)
        words = tf.ragged.boolean_mask(pieces, tf.math.floormod(tf.ragged.range(pieces.row_lengths()), 2) == 1)
        if self.lowercase:
            words = words.with_flat_values(tf.reshape(self._lower_some(words.flat_values), [-1]))
        return self.lookup(words)


def _runs(code_points):
    """Sorted code points as ``(first, last)`` ranges of consecutive ones."""
    out = []
    for c in sorted(code_points):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return tuple(map(tuple, out))


def native(tokenizer) -> NativeTokenizer:
    """The TF-native twin of ``tokenizer`` (a tf.Module; track it to export its tables)."""
    kinds = {"sentencepiece": SentencePieceNative, "word": WordNative, "char": CharNative}
    if tokenizer.kind not in kinds:
        raise ValueError(f"invalid tokenizer of kind {tokenizer.kind!r}: no TF-native version; "
                         f"expected one of {sorted(kinds)}")
    with tf.init_scope():  # tables and models are created eagerly even when first asked for inside a graph
        return kinds[tokenizer.kind](tokenizer)
