import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nlp
from nlp.tokenizers import SPECIAL_TOKENS


@pytest.fixture(scope="module")
def sentences():
    return nlp.corpora.load("python-docs", unit="sentences")


@pytest.fixture(scope="module")
def bpe(sentences):
    return nlp.SentencePieceTokenizer.train(sentences, vocab_size=1000, model_type="bpe")


@pytest.fixture(scope="module")
def unigram(sentences):
    return nlp.SentencePieceTokenizer.train(sentences, vocab_size=1000, model_type="unigram")


@pytest.fixture(scope="module")
def chars(sentences):
    return nlp.CharTokenizer.train(sentences)


@pytest.fixture(scope="module")
def words(sentences):
    return nlp.WordTokenizer.train(sentences, max_vocab=500)


def test_special_tokens_have_the_same_ids_everywhere(bpe, chars, words):
    for tok in (bpe, chars, words):
        assert tok.special_ids == {"pad": 0, "unk": 1, "bos": 2, "eos": 3, "mask": 4}
        assert tok.special_tokens == SPECIAL_TOKENS
        assert [tok.token_to_id(t) for t in SPECIAL_TOKENS.values()] == [0, 1, 2, 3, 4]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80))
def test_sentencepiece_round_trips_any_unicode_string(bpe, unigram, text):
    for tok in (bpe, unigram):
        ids = tok.encode(text)
        assert tok.unk_id not in ids  # byte fallback: nothing is unknown
        assert tok.decode(ids) == text


@pytest.mark.parametrize("text", ["", " ", "  two  spaces ", "tab\tand\nnewline", "\u2581 marker \ue000 escape \ue000_",
                                  "emoji 😀 and 中文 and \x00"])
def test_sentencepiece_round_trips_edge_cases(bpe, text):
    assert bpe.decode(bpe.encode(text)) == text


def test_empty_and_very_long_inputs(bpe, chars, words, sentences):
    for tok in (bpe, chars, words):
        assert tok.encode("") == []
        assert tok.decode([]) == ""
        assert tok.encode(["", "a"], padding=True).shape[0] == 2
    long = " ".join(sentences[:400]) * 3  # ~100k characters
    assert len(long) > 50_000
    assert bpe.decode(bpe.encode(long)) == long
    assert chars.decode(chars.encode(long)) == long
    assert len(bpe.encode(long, max_length=16)) == 16


def test_padding_truncation_and_bos_eos(chars):
    batch = chars.encode(["ab", "abcdef"], max_length=5, padding="max_length", add_bos=True, add_eos=True)
    assert batch.dtype == np.int32 and batch.shape == (2, 5)
    a, b = chars.token_to_id("a"), chars.token_to_id("b")
    assert batch[0].tolist() == [2, a, b, 3, 0]
    assert batch[1][0] == 2 and batch[1][-1] == 3  # truncation keeps bos and eos
    assert chars.encode(["a", "abc"], padding="longest").shape == (2, 3)
    assert chars.decode(batch) == ["ab", "abc"]
    assert chars.decode(batch[0], skip_special_tokens=False) == "<s>ab</s>"
    with pytest.raises(ValueError, match="padding='max_length' needs max_length"):
        chars.encode("a", padding="max_length")
    with pytest.raises(ValueError, match="invalid padding="):
        chars.encode("a", padding="left")
    with pytest.raises(ValueError, match=r"invalid ids: \[999\]"):
        chars.decode([999])


def test_char_tokenizer_code_points_and_unknowns():
    tok = nlp.CharTokenizer.train(["héllo wörld 😀"])
    assert tok.vocab_size == 5 + len(set("héllo wörld 😀"))
    assert tok.decode(tok.encode("wörld 😀")) == "wörld 😀"
    assert tok.encode("z") == [tok.unk_id]
    assert tok.id_to_token(tok.encode("😀")[0]) == "😀"
    assert nlp.CharTokenizer.train(["aab"], max_vocab=1).vocab == list(SPECIAL_TOKENS.values()) + ["a"]


def test_word_tokenizer_rules_and_vocabulary_cut():
    texts = ["The cat sat.", "the cat, the Dog!", "a dog's life"]
    tok = nlp.WordTokenizer.train(texts)
    assert tok.split("The cat, sat!") == ["the", "cat", ",", "sat", "!"]
    assert tok.split("a dog's <mask>") == ["a", "dog's", "<mask>"]
    assert tok.encode("<mask>") == [tok.mask_id]
    assert tok.encode("zebra") == [tok.unk_id]
    assert tok.decode(tok.encode("The cat sat.")) == "the cat sat ."
    assert nlp.WordTokenizer.train(texts, punctuation="strip").split("cat, sat!") == ["cat", "sat"]
    assert nlp.WordTokenizer.train(texts, punctuation="keep").split("cat, sat!") == ["cat,", "sat!"]
    cased = nlp.WordTokenizer.train(texts, lowercase=False)
    assert cased.token_to_id("The") != cased.unk_id and cased.token_to_id("Dog") != cased.unk_id
    top = nlp.WordTokenizer.train(texts, max_vocab=2)
    assert top.vocab[5:] == ["the", "cat"]  # most frequent first
    frequent = nlp.WordTokenizer.train(texts, min_frequency=2)
    assert set(frequent.vocab[5:]) == {"the", "cat"}  # "dog" once, "dog's" once


@pytest.mark.parametrize("fixture", ["bpe", "chars", "words"])
def test_save_load_gives_the_same_ids(request, fixture, tmp_path, sentences):
    tok = request.getfixturevalue(fixture)
    path = tok.save(str(tmp_path / "tok.json"))
    loaded = nlp.Tokenizer.load(path)
    assert type(loaded) is type(tok) and loaded.vocab_size == tok.vocab_size
    assert loaded.encode(sentences[:50]) == tok.encode(sentences[:50])
    assert type(tok).load(path).encode("x y") == tok.encode("x y")
    with open(path, "rb") as f:
        assert b"\x80\x04" not in f.read()[:2]  # JSON, not pickle


def test_sentencepiece_model_proto_file_interoperates(bpe, tmp_path, sentences):
    import sentencepiece as spm

    path = bpe.save_model_proto(str(tmp_path / "sp.model"))
    raw = spm.SentencePieceProcessor(model_file=path)
    assert raw.encode(sentences[:20], out_type=int) == bpe.encode(sentences[:20])
    assert nlp.SentencePieceTokenizer.load(path).encode(sentences[:20]) == bpe.encode(sentences[:20])


def test_load_rejects_the_wrong_class_and_bad_files(words, tmp_path):
    path = words.save(str(tmp_path / "w.json"))
    with pytest.raises(ValueError, match="holds a WordTokenizer, not a CharTokenizer"):
        nlp.CharTokenizer.load(path)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\x00\x01garbage")
    with pytest.raises(ValueError, match="could not read tokenizer file"):
        nlp.Tokenizer.load(str(bad))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nlp.Tokenizer.load(str(tmp_path / "missing.json"))


def test_subword_sampling_varies_segmentation_but_not_text(sentences):
    tok = nlp.SentencePieceTokenizer.train(sentences, vocab_size=1000, model_type="unigram", enable_sampling=True,
                                           alpha=0.5)
    text = "assertion statements are convenient"
    samples = {tuple(tok.encode(text)) for _ in range(20)}
    assert len(samples) > 1
    assert all(tok.decode(list(s)) == text for s in samples)
    assert len({tuple(tok.encode(text, enable_sampling=False)) for _ in range(5)}) == 1


def test_vocabulary_larger_than_the_corpus_allows_is_explained():
    texts = ["a tiny corpus with few words"] * 3
    too_many = r"vocab_size=5000: this corpus supports at most \d+ pieces.*hard_vocab_limit=False"
    with pytest.raises(ValueError, match=too_many):
        nlp.SentencePieceTokenizer.train(texts, vocab_size=5000, model_type="unigram")
    soft = nlp.SentencePieceTokenizer.train(texts, vocab_size=5000, model_type="unigram", hard_vocab_limit=False)
    assert soft.vocab_size < 5000
    assert soft.decode(soft.encode("tiny words")) == "tiny words"
    with pytest.raises(ValueError, match=r"vocab_size=100: .* need \d+ pieces .*256 byte pieces"):
        nlp.SentencePieceTokenizer.train(texts, vocab_size=100)


@pytest.mark.parametrize("cls", [nlp.SentencePieceTokenizer, nlp.CharTokenizer, nlp.WordTokenizer])
def test_empty_corpus_is_refused(cls):
    with pytest.raises(ValueError, match="texts is empty"):
        cls.train([])
    with pytest.raises(ValueError, match="texts is empty"):
        cls.train(["", "   "])
    with pytest.raises(TypeError, match="single str"):
        cls.train("just one string")


def test_bad_arguments_name_the_argument(sentences):
    with pytest.raises(ValueError, match="invalid model_type='wordpiece'"):
        nlp.SentencePieceTokenizer.train(sentences, vocab_size=500, model_type="wordpiece")
    with pytest.raises(ValueError, match="invalid max_vocab=0"):
        nlp.WordTokenizer.train(sentences, max_vocab=0)
    with pytest.raises(ValueError, match="invalid punctuation='drop'"):
        nlp.WordTokenizer.train(sentences, punctuation="drop")
    with pytest.raises(ValueError, match="min_frequency=1000000 leaves no token"):
        nlp.CharTokenizer.train(sentences, min_frequency=1_000_000)
    with pytest.raises(TypeError, match=r"invalid text\[1\]=3"):
        nlp.CharTokenizer.train(["ab"]).encode(["a", 3])


def test_tf_data_map_and_batches(bpe, sentences):
    ds = tf.data.Dataset.from_tensor_slices(sentences[:6]).map(bpe)
    for text, ids in zip(sentences[:6], ds):
        assert ids.dtype == tf.int32 and ids.numpy().tolist() == bpe.encode(text)
    batched = tf.data.Dataset.from_tensor_slices(sentences[:6]).batch(3).map(
        lambda t: bpe(t, max_length=12, padding="max_length"))
    first = next(iter(batched))
    assert first.shape == (3, 12)
    np.testing.assert_array_equal(first.numpy(), bpe.encode(sentences[:3], max_length=12, padding="max_length"))


def test_keras_layer_in_a_model_saves_and_loads(chars, tmp_path):
    inputs = keras.Input(shape=(), dtype="string")
    ids = chars.as_layer(sequence_length=8)(inputs)
    model = keras.Model(inputs, ids)
    texts = tf.constant(["hello", "hi there, long text"])
    out = model(texts).numpy()
    expected = chars.encode(["hello", "hi there, long text"], max_length=8, padding="max_length")
    np.testing.assert_array_equal(out, expected)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded(texts).numpy(), out)
