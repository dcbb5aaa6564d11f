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

from nlp.tokenizers.base import SPECIAL_TOKENS, Tokenizer
from nlp.tokenizers.char import CharTokenizer
from nlp.tokenizers.layer import TokenizerLayer
from nlp.tokenizers.sentencepiece import SentencePieceTokenizer
from nlp.tokenizers.word import WordTokenizer

__all__ = [
    "Tokenizer",
    "WordTokenizer",
    "CharTokenizer",
    "SentencePieceTokenizer",
    "TokenizerLayer",
    "SPECIAL_TOKENS",
]
