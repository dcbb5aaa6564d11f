import numpy as np
import pytest

import nlp
from nlp import KeyedVectors


@pytest.fixture
def wv():
    words = ["man", "woman", "king", "queen", "apple", "pear"]
    vectors = np.array([
        [1.0, 0.0, 0.0, 0.1],   # man
        [0.0, 1.0, 0.0, 0.1],   # woman
        [1.0, 0.0, 1.0, 0.0],   # king = man + royal
        [0.0, 1.0, 1.0, 0.0],   # queen = woman + royal
        [0.0, 0.0, 0.0, 1.0],   # apple
        [0.1, 0.1, 0.0, 1.0],   # pear
    ], np.float32)
    return KeyedVectors(words, vectors)


def test_similarity_most_similar_and_analogy(wv):
    assert wv.similarity("apple", "pear") > 0.95
    assert wv.similarity("apple", "king") < 0.1
    assert wv.most_similar("apple", topn=1)[0][0] == "pear"
    assert "apple" not in [w for w, _ in wv.most_similar("apple", topn=5)]
    by_vector = wv.most_similar(wv["apple"], topn=1)
    assert by_vector[0][0] == "apple" and by_vector[0][1] == pytest.approx(1.0)
    assert wv.analogy("man", "king", "woman") == "queen"
    assert [w for w, _ in wv.most_similar(positive=["king", "woman"], negative=["man"], topn=2)][0] == "queen"


def test_unknown_word_and_bad_queries(wv):
    with pytest.raises(KeyError, match="word 'prince' not in the vocabulary of 6 words"):
        wv.most_similar("prince")
    with pytest.raises(KeyError, match="not in the vocabulary"):
        wv.similarity("man", "prince")
    with pytest.raises(ValueError, match="invalid topn=0"):
        wv.most_similar("man", topn=0)
    with pytest.raises(ValueError, match=r"invalid vector of shape \(3,\)"):
        wv.most_similar(np.zeros(3))


def test_evaluate_word_pairs_and_analogies(wv, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# comment\napple\tpear\t9\nking\tqueen\t7\nman\tapple\t1\nKING\tMan\t6\nunknown\tman\t3\n")
    result = wv.evaluate_word_pairs(str(pairs))
    assert result["pairs"] == 4 and result["oov_ratio"] == pytest.approx(0.2)
    assert result["spearman"] > 0.5
    questions = tmp_path / "q.txt"
    questions.write_text(": gender\nman king woman queen\nwoman queen man king\n"
                         ": fruit\nman woman apple king\nman x y z\n")
    out = wv.evaluate_analogies(str(questions))
    assert out["total"] == 3 and out["skipped"] == 1 and out["correct"] == 2
    assert out["sections"] == {"gender": 1.0, "fruit": 0.0}
    bad = tmp_path / "bad.tsv"
    bad.write_text("apple\tpear\tnot-a-number\n")
    with pytest.raises(ValueError, match="bad.tsv:1: invalid line"):
        wv.evaluate_word_pairs(str(bad))


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_format_round_trip_and_gensim_interop(wv, tmp_path, binary):
    keyed = pytest.importorskip("gensim.models.keyedvectors")
    path = wv.save_word2vec_format(str(tmp_path / "v.bin"), binary=binary)
    loaded = KeyedVectors.load_word2vec_format(path)  # format detected
    assert loaded.words == wv.words
    np.testing.assert_allclose(loaded.vectors, wv.vectors, rtol=1e-6)
    theirs = keyed.KeyedVectors.load_word2vec_format(path, binary=binary)
    assert list(theirs.index_to_key) == wv.words
    np.testing.assert_allclose(theirs.vectors, wv.vectors, rtol=1e-6)
    back = tmp_path / "gensim.out"
    theirs.save_word2vec_format(str(back), binary=binary)
    again = nlp.load_word2vec_format(str(back), binary=binary)
    assert again.words == wv.words
    np.testing.assert_allclose(again.vectors, wv.vectors, rtol=1e-6)


def test_bad_vectors_files(tmp_path):
    header = tmp_path / "header.txt"
    header.write_text("words and vectors\nman 1 2\n")
    with pytest.raises(ValueError, match="invalid word2vec header .* expected '<number of words> <dimensions>'"):
        KeyedVectors.load_word2vec_format(str(header))
    short = tmp_path / "short.txt"
    short.write_text("3 2\nman 1 2\nwoman 3 4\n")
    with pytest.raises(ValueError, match="the header says 3 words, the file has 2"):
        KeyedVectors.load_word2vec_format(str(short))
    fields = tmp_path / "fields.txt"
    fields.write_text("1 3\nman 1 2\n")
    with pytest.raises(ValueError, match="expected a word and 3 numbers"):
        KeyedVectors.load_word2vec_format(str(fields), binary=False)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        KeyedVectors.load_word2vec_format(str(tmp_path / "missing.bin"))
    with pytest.raises(ValueError, match="containing a space or a newline"):
        KeyedVectors(["two words"], np.zeros((1, 2))).save_word2vec_format(str(tmp_path / "x.txt"))


def test_keras_embedding_rows_follow_tokenizer_ids(wv):
    tok = nlp.WordTokenizer.train(["queen apple", "king pear zebra", "zebra"])
    layer = wv.to_keras_embedding(tok)
    matrix = layer.embeddings.numpy()
    assert matrix.shape == (tok.vocab_size, 4) and not layer.trainable
    for word in ("queen", "apple", "king", "pear"):
        np.testing.assert_allclose(matrix[tok.token_to_id(word)], wv[word])
    assert not matrix[tok.pad_id].any()
    assert layer.coverage == pytest.approx(4 / 5)  # zebra has no vector
    ids = np.array([tok.encode("king pear", max_length=4, padding="max_length")])
    np.testing.assert_allclose(layer(ids).numpy()[0, 0], wv["king"])
    assert wv.to_keras_embedding(tok, trainable=True).trainable
    with pytest.raises(ValueError, match="none of the"):
        wv.to_keras_embedding(nlp.CharTokenizer.train(["xyz"]))


def test_keras_embedding_from_fasttext_and_sentencepiece_tokens():
    ngrams = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    ft = nlp.FastTextVectors(["king", "queen"], np.eye(2, 4, dtype=np.float32), ngrams, min_n=3, max_n=4)
    tok = nlp.WordTokenizer.train(["king queen kingdom"])
    matrix, found = ft.embedding_matrix(tok)
    assert found == 3  # "kingdom" gets its n-gram vector
    np.testing.assert_allclose(matrix[tok.token_to_id("kingdom")], ft["kingdom"])
    np.testing.assert_allclose(ft["kingdom"], ngrams[ft.ngram_ids("kingdom")].mean(axis=0))
    sp = nlp.SentencePieceTokenizer.train(["king queen"] * 20, vocab_size=300, model_type="word",
                                          hard_vocab_limit=False)
    rows, found = ft.embedding_matrix(sp, missing="zeros")
    np.testing.assert_allclose(rows[sp.token_to_id("\u2581king")], ft["king"])  # the word-start marker is stripped
