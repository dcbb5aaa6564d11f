import os

import numpy as np
import pytest

import nlp

TOPICS = (["cat", "dog", "pet", "fur", "paw", "vet", "kitten", "puppy"],
          ["car", "road", "engine", "wheel", "fuel", "drive", "garage", "brake"])


def topic_corpus(n=300, length=8, seed=0):
    rng = np.random.default_rng(seed)
    return [list(rng.choice(TOPICS[i % 2], size=length)) for i in range(n)]


def topic_margin(wv):
    """Mean cosine within a topic minus across topics."""
    within = [wv.similarity(a, b) for t in TOPICS for a in t for b in t if a < b]
    across = [wv.similarity(a, b) for a in TOPICS[0] for b in TOPICS[1]]
    return float(np.mean(within) - np.mean(across))


@pytest.mark.slow
def test_word2vec_skipgram_quality_on_lee_background():
    gensim = pytest.importorskip("gensim")
    sentences = nlp.corpora.load("lee-background")
    model = nlp.Word2Vec(sentences, sg=True, vector_size=100, window=5, negative=5, min_count=2, epochs=20)
    similar = [w for w, _ in model.wv.most_similar("attacks", topn=50)]
    assert "bombings" in similar
    wordsim = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", "wordsim353.tsv")
    assert model.wv.evaluate_word_pairs(wordsim)["spearman"] >= 0.2
    assert model.history[-1]["loss"] < model.history[0]["loss"]
    # our evaluations agree with gensim's on the same vectors
    from gensim.models import KeyedVectors as GensimVectors

    theirs = GensimVectors(model.wv.vector_size)
    theirs.add_vectors(model.wv.words, model.wv.vectors)
    assert model.wv.evaluate_word_pairs(wordsim)["spearman"] == pytest.approx(
        theirs.evaluate_word_pairs(wordsim)[1].statistic, abs=1e-4)
    questions = os.path.join(os.path.dirname(wordsim), "questions-words.txt")
    ours = model.wv.evaluate_analogies(questions)
    score, sections = theirs.evaluate_word_analogies(questions)
    assert ours["total"] == len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]) > 0
    assert ours["accuracy"] == pytest.approx(score, abs=2 / ours["total"])


@pytest.mark.parametrize("cls, kwargs", [
    (nlp.Word2Vec, dict(sg=False, sample=0.0, batch_size=128)),
    (nlp.FastText, dict(sg=True, bucket=2000, sample=0.0, batch_size=128)),
    (nlp.Word2Vec, dict(sg=True, sample=0.0, batch_size=128, jit_compile=False)),
    (nlp.GloVe, dict(learning_rate=0.1)),
])
def test_models_learn_topics(cls, kwargs):
    model = cls(topic_corpus(), vector_size=16, window=3, min_count=1, epochs=10, **kwargs)
    assert topic_margin(model.wv) > 0.5
    assert model.history[-1]["loss"] < model.history[0]["loss"]


def test_fasttext_gives_vectors_for_unseen_words():
    sentences = [["attack", "attacks", "attacked", "bombing"], ["walk", "walked", "walking", "runs"]] * 40
    model = nlp.FastText(sentences, vector_size=16, window=2, min_count=1, epochs=5, bucket=5000)
    wv = model.wv
    assert not wv.has_index_for("attacking") and "attacking" in wv
    vec = wv["attacking"]
    assert vec.shape == (16,) and np.isfinite(vec).all()
    assert wv.similarity("attacking", "attacked") > wv.similarity("attacking", "runs")


def test_vocabulary_rules_and_save_load(tmp_path):
    sentences = topic_corpus(50) + [["rare"]]
    model = nlp.Word2Vec(sentences, vector_size=8, min_count=2, epochs=2, max_vocab_size=10)
    assert "rare" not in model.wv and len(model.wv) == 10
    assert model.wv.words[0] in TOPICS[0] + TOPICS[1]
    expected = [sum(s.count(w) for s in sentences) for w in model.wv.words]  # corpus counts, most frequent first
    assert model.wv.counts == expected == sorted(expected, reverse=True)
    assert model.wv.get_count(model.wv.words[0]) == expected[0]
    path = model.save(str(tmp_path / "w2v.npz"))
    loaded = nlp.Word2Vec.load(path)
    assert loaded.wv.words == model.wv.words
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(loaded.output_weights, model.output_weights)
    loaded.train(sentences, epochs=1)  # training goes on from the loaded state
    with pytest.raises(ValueError, match="holds a Word2Vec, not a GloVe"):
        nlp.GloVe.load(path)
    glove = nlp.GloVe(sentences, vector_size=8, min_count=1, epochs=2)
    again = nlp.GloVe.load(glove.save(str(tmp_path / "glove.npz")))
    np.testing.assert_array_equal(again.wv.vectors, glove.wv.vectors)


def test_strings_are_tokenized_like_gensim():
    model = nlp.Word2Vec(["The Cat sat; the cat ran."] * 5, vector_size=4, min_count=1, epochs=1)
    assert set(model.wv.words) == {"the", "cat", "sat", "ran"}


@pytest.mark.parametrize("cls", [nlp.Word2Vec, nlp.FastText, nlp.GloVe])
def test_bad_input_is_refused(cls):
    with pytest.raises(ValueError, match="sentences is empty"):
        cls([], vector_size=4)
    with pytest.raises(ValueError, match="sentences is empty"):
        cls(["", "12 34"], vector_size=4)
    with pytest.raises(ValueError, match="min_count=50 leaves no word"):
        cls([["a", "b"]], vector_size=4, min_count=50)
    with pytest.raises(ValueError, match="invalid vector_size=0; expected an integer >= 1"):
        cls(vector_size=0)
    with pytest.raises(ValueError, match="invalid window=-1"):
        cls(window=-1)
    with pytest.raises(TypeError, match="single str"):
        cls("a whole string", vector_size=4)
    with pytest.raises(ValueError, match="not trained yet"):
        _ = cls(vector_size=4).wv


def test_word2vec_specific_arguments():
    with pytest.raises(ValueError, match="invalid sg=1; expected True"):
        nlp.Word2Vec(sg=1)
    with pytest.raises(ValueError, match="invalid negative=0"):
        nlp.Word2Vec(negative=0)
    with pytest.raises(ValueError, match="invalid max_n=2; expected an integer >= 3"):
        nlp.FastText(min_n=3, max_n=2)
