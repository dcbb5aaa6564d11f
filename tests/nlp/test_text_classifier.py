import keras
import numpy as np
import pytest

import nlp
import zoo
from zoo.reproduce import list_entries
from zoo.reproduce.nlp_textclf import predict_in_new_process, source_task

QUERIES = ["The for statement is used to iterate over the elements of a sequence.",
           "Firefighters battled the blaze near Sydney on Tuesday.", "", "zzzz qqqq", "word " * 500]


@pytest.fixture(scope="module")
def task():
    return source_task(seed=0, labels_per_class=40, test_per_class=100)


@pytest.fixture(scope="module")
def tok(task):
    return nlp.WordTokenizer.train(task["unlabelled"], min_frequency=2, punctuation="strip")


@pytest.fixture(scope="module")
def trained(task, tok):
    keras.utils.set_random_seed(0)
    model = nlp.text_classifier(tok, 2, embedding_dim=16, sequence_length=32)
    nlp.train_text_classifier(model, *task["train"], steps=40, batch_size=32, seed=0)
    return model


def test_the_task_is_balanced_and_disjoint(task):
    (x, y), (xt, yt) = task["train"], task["test"]
    assert task["classes"] == ["python-docs", "lee-background"]
    assert np.bincount(y).tolist() == [40, 40] and np.bincount(yt).tolist() == [100, 100]
    assert len(set(xt)) == len(xt) and not set(x) & set(xt) and not set(xt) & set(task["unlabelled"])
    assert set(x) <= set(task["unlabelled"])
    assert source_task(seed=0, labels_per_class=40, test_per_class=100)["train"][0] == x  # same seed, same split


def test_raw_strings_in_probabilities_out(trained):
    probs = trained.predict(np.array(QUERIES, dtype=object), verbose=0)
    assert probs.shape == (len(QUERIES), 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    # an empty string has no token: its mean vector is zero, so the head's bias alone decides
    bias = trained.get_layer("predictions").bias.numpy()
    np.testing.assert_allclose(probs[2], np.exp(bias) / np.exp(bias).sum(), rtol=1e-5)


def test_it_learns_the_corpus_of_a_sentence(task, trained):
    xt, yt = task["test"]
    accuracy = (trained.predict(np.array(xt, dtype=object), verbose=0).argmax(-1) == yt).mean()
    assert accuracy >= 0.8  # chance is 0.5


def test_pretrained_vectors_are_the_embedding_rows(task, tok):
    w2v = nlp.Word2Vec(task["unlabelled"][:400], vector_size=8, min_count=2, epochs=1, seed=0)
    model = nlp.text_classifier(tok, 2, vectors=w2v.wv, trainable=False)
    table = model.get_layer("embedding").embeddings.numpy()
    word = next(w for w in w2v.wv.words if tok.token_to_id(w) != tok.unk_id)
    np.testing.assert_array_equal(table[tok.token_to_id(word)], w2v.wv[word])
    assert not model.get_layer("embedding").trainable and np.all(table[tok.pad_id] == 0)


def test_keras_file_round_trip(tmp_path, trained):
    path = zoo.export.keras_file(trained, str(tmp_path / "clf.keras"))
    again = keras.models.load_model(path, safe_mode=True)
    x = np.array(QUERIES, dtype=object)
    np.testing.assert_array_equal(again.predict(x, verbose=0), trained.predict(x, verbose=0))


@pytest.fixture(scope="module")
def exported(tmp_path_factory, trained):
    return zoo.export.saved_model(trained, str(tmp_path_factory.mktemp("serving") / "clf" / "1"))


def test_saved_model_takes_raw_strings(exported, trained):
    runner = zoo.inference.SavedModelRunner(exported)
    x = np.array(QUERIES, dtype=object)
    np.testing.assert_allclose(runner.predict_batch(x), trained.predict(x, verbose=0), atol=1e-6)


def test_saved_model_reloads_in_another_process(exported, trained):
    there = predict_in_new_process(exported, QUERIES)
    np.testing.assert_allclose(there, trained.predict(np.array(QUERIES, dtype=object), verbose=0), atol=1e-6)


def test_bad_arguments_are_refused(tok):
    with pytest.raises(TypeError, match="invalid tokenizer='words'"):
        nlp.text_classifier("words", 2)
    with pytest.raises(ValueError, match="invalid num_classes=1; expected an integer >= 2"):
        nlp.text_classifier(tok, 1)
    with pytest.raises(TypeError, match="invalid vectors='w2v.txt'; expected nlp.KeyedVectors"):
        nlp.text_classifier(tok, 2, vectors="w2v.txt")
    wv = nlp.KeyedVectors(["for", "the"], np.ones((2, 4)))
    with pytest.raises(ValueError, match="invalid embedding_dim=8; the vectors have 4 dimensions"):
        nlp.text_classifier(tok, 2, vectors=wv, embedding_dim=8)
    with pytest.raises(ValueError, match=r"invalid dropout=1.0; expected a number in \[0, 1\)"):
        nlp.text_classifier(tok, 2, dropout=1.0)
    with pytest.raises(ValueError, match="invalid sequence_length=0"):
        nlp.text_classifier(tok, 2, sequence_length=0)


def test_bad_training_data_is_refused_before_training(tok):
    model = nlp.text_classifier(tok, 2, embedding_dim=4)
    with pytest.raises(TypeError, match="invalid texts='one text'; expected a list of strings"):
        nlp.train_text_classifier(model, "one text", [0])
    with pytest.raises(TypeError, match=r"invalid texts\[1\]=3; expected a string"):
        nlp.train_text_classifier(model, ["a", 3], [0, 1])
    with pytest.raises(ValueError, match="got 2 texts but 1 labels"):
        nlp.train_text_classifier(model, ["a", "b"], [0])
    with pytest.raises(ValueError, match=r"invalid labels \[2\]; expected class ids in \[0, 2\)"):
        nlp.train_text_classifier(model, ["a", "b"], [0, 2])
    with pytest.raises(TypeError, match="expected a 1-D sequence of integer class ids"):
        nlp.train_text_classifier(model, ["a", "b"], ["x", "y"])
    with pytest.raises(ValueError, match="invalid steps=0"):
        nlp.train_text_classifier(model, ["a", "b"], [0, 1], steps=0)
    assert not model.compiled  # refused before compiling
    with pytest.raises(ValueError, match="test_per_class \\+ labels_per_class = 99999 is too many"):
        source_task(labels_per_class=4, test_per_class=99995)


def test_the_entry_is_seeded_and_in_the_quick_suite():
    (e,) = list_entries("quick", "nlp-text-classifier-*")
    assert e.seeded and e.mode == "max" and e.reference > 0
