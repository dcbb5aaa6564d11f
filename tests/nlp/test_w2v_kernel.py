"""The compiled SGD kernel (nlp/embeddings/sgd.py) against a NumPy reference, and seeds that reproduce."""

import numpy as np
import pytest

import nlp

sgd = pytest.importorskip("nlp.embeddings.sgd")
MASK = (1 << 48) - 1


def reference_step(hidden, target, w_out, table, state, negative, lr):
    """One negative-sampling SGD step written out in NumPy (float64); returns (loss, state, input error)."""
    work, loss, skipped, saturated = np.zeros_like(hidden), 0.0, 0, 0
    for k in range(negative + 1):
        if k == 0:
            out, label = target, 1.0
        else:
            state = (state * 25214903917 + 11) & MASK
            out, label = table[state >> (48 - int(np.log2(len(table))))], 0.0  # the top bits
            if out == target:
                skipped += 1
                continue
        f = hidden @ w_out[out]
        x = f if k == 0 else -f
        loss -= 0.0 if x >= 6 else x if x <= -6 else np.log(sgd.SIGMOID[int((x + 6) * 1000 / 12)])
        if abs(f) >= 6:
            saturated += 1
            continue
        p = 1 / (1 + np.exp(-(int((f + 6) * 1000 / 12) / 1000 * 2 - 1) * 6))  # the sigmoid at the table's point
        g = (label - p) * lr
        work += g * w_out[out]
        w_out[out] += g * hidden
    return loss, state, work, skipped, saturated


def reference_epoch(w_in, w_out, sub, sub_len, ids, sent, reach, table, state, lr0, lr1, sg, negative):
    """train_epoch written out: per centre word, its context in the same sentence within its reduced window."""
    n, loss, examples = len(ids), 0.0, 0
    for i in range(n):
        lr = lr0 + (lr1 - lr0) * i / n
        context = [j for j in range(max(i - reach[i], 0), min(i + reach[i] + 1, n)) if j != i and sent[j] == sent[i]]
        groups = [[j] for j in context] if sg else ([context] if context else [])
        for group in groups:
            rows = [sub[ids[j], :sub_len[ids[j]]] for j in group]
            hidden = np.mean([w_in[r].mean(axis=0) for r in rows], axis=0)
            step_loss, state, work, *_ = reference_step(hidden, ids[i], w_out, table, state, negative, lr)
            for r in rows:
                np.add.at(w_in, r, work)
            loss, examples = loss + step_loss, examples + 1
    return loss, examples


def tiny(seed=0, vocab=7, dim=5, width=1):
    rng = np.random.default_rng(seed)
    w_in = rng.normal(0, 0.3, (vocab + 1, dim))
    w_out = rng.normal(0, 0.3, (vocab + 1, dim))
    sub = np.arange(vocab + 1, dtype=np.int32)[:, None] if width == 1 else np.stack(
        [np.arange(vocab + 1), (np.arange(vocab + 1) * 3) % vocab], axis=1).astype(np.int32)
    sub_len = np.full(vocab + 1, width, np.int32)
    return w_in, w_out, sub, sub_len


def test_one_step_matches_numpy():
    w_in, w_out, _, _ = tiny()
    table = np.array([0, 1, 2, 2, 3, 4, 5, 6], np.int32)
    hidden = w_in[3].copy()
    ref_out = w_out.copy()
    ref_out[4] = 40 * hidden  # a saturated score: no update
    ref_loss, ref_state, ref_work, skipped, saturated = reference_step(hidden, 2, ref_out, table, 777, 6, 0.05)
    assert skipped > 0 and saturated > 0  # a negative equal to the target and a saturated one are exercised
    out, work = w_out.astype(np.float32), np.zeros(5, np.float32)
    out[4] = 40 * hidden
    loss, state = sgd.sgd_update(hidden.astype(np.float32), np.int32(2), out, work, table, sgd.table_shift(table),
                                 np.uint64(777), 6, np.float32(0.05))
    assert int(state) == ref_state
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(work, ref_work, rtol=1e-5, atol=1e-6)
    assert loss == pytest.approx(ref_loss, rel=1e-5)


@pytest.mark.parametrize("sg, width", [(True, 1), (False, 1), (True, 2), (False, 2)])
def test_epoch_matches_numpy(sg, width):
    w_in, w_out, sub, sub_len = tiny(width=width)
    ids = np.array([0, 1, 2, 3, 1, 4, 5, 6, 2, 0, 3], np.int32)
    sent = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2], np.int32)
    reach = np.array([1, 2, 3, 1, 2, 2, 1, 3, 1, 2, 1], np.int32)
    table = np.array([0, 1, 1, 2, 3, 4, 5, 6], np.int32)
    ref_in, ref_out = w_in.copy(), w_out.copy()
    ref_loss, ref_examples = reference_epoch(ref_in, ref_out, sub, sub_len, ids, sent, reach, table, 99, 0.05, 0.01,
                                             sg, 3)
    ours_in, ours_out = w_in.astype(np.float32), w_out.astype(np.float32)
    loss, examples, _ = sgd.train_epoch(ours_in, ours_out, sub, sub_len, ids, sent, reach, table, np.uint64(99),
                                        0.05, 0.01, sg, 3)
    assert examples == ref_examples == (22 if sg else 11)
    np.testing.assert_allclose(ours_in, ref_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours_out, ref_out, rtol=1e-4, atol=1e-5)
    assert loss == pytest.approx(ref_loss, rel=1e-4)


CORPUS = [["cat", "dog", "pet", "fur", "paw"], ["car", "road", "engine", "wheel"], ["dog", "paw", "vet"]] * 30


@pytest.mark.parametrize("cls, kwargs", [(nlp.Word2Vec, dict(sg=True)), (nlp.Word2Vec, dict(sg=False)),
                                         (nlp.FastText, dict(sg=True, bucket=500))])
def test_a_seed_gives_the_same_vectors(cls, kwargs):
    def run(seed):
        return cls(CORPUS, vector_size=8, window=2, min_count=1, epochs=3, seed=seed, **kwargs)

    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.output_weights, b.output_weights)
    assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


def test_workers_and_the_tf_kernel_learn(tmp_path):
    from test_embeddings import topic_corpus, topic_margin

    for kwargs in (dict(workers=2), dict(kernel="tf", jit_compile=False, batch_size=128)):
        model = nlp.Word2Vec(topic_corpus(), vector_size=16, window=3, min_count=1, epochs=10, sample=0.0, **kwargs)
        assert topic_margin(model.wv) > 0.5, kwargs
        assert model.history[-1]["loss"] < model.history[0]["loss"]
    loaded = nlp.Word2Vec.load(model.save(str(tmp_path / "tf.npz")))
    assert (loaded.kernel, loaded.batch_size, loaded.jit_compile) == ("tf", 128, False)
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)


def test_keras_model_holds_the_trained_weights():
    model = nlp.Word2Vec(CORPUS, vector_size=8, window=2, min_count=1, epochs=1)
    keras_model = model.keras_model
    model.train(CORPUS, epochs=1)  # training refreshes the Keras copy
    np.testing.assert_array_equal(keras_model.get_layer("input_embedding").embeddings.numpy()[:-1],
                                  model.input_weights)
    score = keras_model.predict([np.array([[0]]), np.array([[1]])], verbose=0)
    assert score.ravel()[0] == pytest.approx(model.input_weights[0] @ model.output_weights[1], rel=1e-5)


def test_kernel_arguments_are_checked():
    with pytest.raises(ValueError, match="invalid workers=0; expected an integer >= 1"):
        nlp.Word2Vec(workers=0)
    with pytest.raises(ValueError, match="invalid kernel='cuda'; expected one of 'numba', 'tf'"):
        nlp.FastText(kernel="cuda")


def test_missing_numba_is_named(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "nlp.embeddings.sgd")
    with pytest.raises(ImportError, match=r"Word2Vec\(kernel='numba'\) needs numba .* or pass kernel='tf'"):
        nlp.Word2Vec([["a", "b"]] * 3, min_count=1, vector_size=4)
