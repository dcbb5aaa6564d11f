"""GPT (cached generation, causality, learning), BERT (80/10/10 masking, MLM, fine-tuning), text classifier."""

import keras
import numpy as np
import pytest

import zoo
from zoo.models.transformer import GPT, SPECIAL_TOKENS, mask_tokens
from zoo.train import compile_from_recipe

TEXT = "the quick brown fox jumps over the lazy dog. " * 40


def _tiny_gpt(**kw):
    args = dict(vocabulary="".join(sorted(set(TEXT))), context_length=32, num_layers=2, num_heads=2, embed_dim=32)
    return zoo.get("gpt_nano", **{**args, **kw})


def _windows(ids, length, stride=3):
    starts = np.arange(0, len(ids) - length - 1, stride)
    x = np.stack([ids[s:s + length] for s in starts])
    y = np.stack([ids[s + 1:s + length + 1] for s in starts])
    return x, y


@pytest.mark.parametrize("positions,tie_weights", [("learned", True), ("sinusoidal", False)])
def test_cached_logits_equal_the_uncached_forward_pass(positions, tie_weights, rng):
    model = _tiny_gpt(positions=positions, tie_weights=tie_weights)
    ids = rng.integers(0, model.vocab_size, size=(2, 20)).astype("int32")
    full = keras.ops.convert_to_numpy(model(ids, training=False))
    cache, parts = None, []
    for a, b in [(0, 7), (7, 8), (8, 9), (9, 20)]:  # a prompt, single steps, then a chunk
        logits, cache = model.call_with_cache(ids[:, a:b], cache)
        parts.append(keras.ops.convert_to_numpy(logits))
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, atol=1e-5)


def test_cached_generation_equals_uncached_generation():
    model = _tiny_gpt()
    kw = dict(length=20, temperature=0.9, top_k=5, seed=3)
    fast = model.generate("the quick", use_cache=True, **kw)
    slow = model.generate("the quick", use_cache=False, **kw)
    assert fast == slow and fast.startswith("the quick") and len(fast) == len("the quick") + 20


def test_gpt_is_causal(rng):
    model = _tiny_gpt()
    ids = rng.integers(0, model.vocab_size, size=(1, 12)).astype("int32")
    changed = ids.copy()
    changed[0, 8:] = (changed[0, 8:] + 1) % model.vocab_size
    a, b = (keras.ops.convert_to_numpy(model(v, training=False)) for v in (ids, changed))
    np.testing.assert_allclose(a[:, :8], b[:, :8], atol=1e-6)
    assert not np.allclose(a[:, 8:], b[:, 8:])


def test_gpt_sizes_follow_mingpt():
    shapes = {n: (zoo.info(n)["defaults"]["num_layers"], zoo.info(n)["defaults"]["num_heads"],
                  zoo.info(n)["defaults"]["embed_dim"]) for n in ("gpt_nano", "gpt_mini", "gpt_small")}
    assert shapes == {"gpt_nano": (3, 3, 48), "gpt_mini": (6, 6, 192), "gpt_small": (12, 12, 768)}


def test_char_gpt_learns_and_generates_text():
    model = _tiny_gpt(dropout=0.0)
    x, y = _windows(model.vocabulary.encode(TEXT), 24, stride=5)
    compile_from_recipe(model, zoo.info("gpt_nano")["recipe"], learning_rate=3e-3)
    history = model.fit(x, y, epochs=6, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
    out = model.generate("the quick brown", length=12, top_k=1)
    assert out.startswith("the quick brown") and len(out) == 27
    assert set(out) <= set(TEXT)


def test_gpt_bad_inputs_raise_clear_errors():
    model = _tiny_gpt()
    with pytest.raises(ValueError, match="temperature=0"):
        model.generate("the", length=3, temperature=0)
    with pytest.raises(ValueError, match="temperature=-1"):
        model.generate("the", length=3, temperature=-1.0)
    with pytest.raises(ValueError, match=r"'!Z'.*not in the model's vocabulary"):
        model.generate("the Z!", length=3)
    with pytest.raises(ValueError, match="longer than the context of 32"):
        model.generate("the quick", length=30)
    with pytest.raises(ValueError, match="longer than the context of 32"):
        model(np.zeros((1, 40), "int32"))
    with pytest.raises(ValueError, match="top_k=0"):
        model.generate("the", length=3, top_k=0)
    with pytest.raises(ValueError, match="num_heads=5"):
        zoo.get("gpt_nano", num_heads=5)


def test_mask_tokens_follows_the_80_10_10_rule():
    vocab = 1000
    ids = np.random.default_rng(1).integers(len(SPECIAL_TOKENS), vocab, size=(400, 500))
    ids[:, 0] = SPECIAL_TOKENS["[CLS]"]
    ids[:, -50:] = SPECIAL_TOKENS["[PAD]"]
    inputs, labels, weights = mask_tokens(ids, vocab, seed=0)
    picked = weights.astype(bool)
    ordinary = ~np.isin(ids, list(SPECIAL_TOKENS.values()))
    assert not picked[~ordinary].any()  # [CLS] and [PAD] are never picked
    np.testing.assert_array_equal(labels, ids)
    assert abs(picked[ordinary].mean() - 0.15) < 0.005
    masked = (inputs == SPECIAL_TOKENS["[MASK]"])[picked].mean()
    kept = (inputs == ids)[picked].mean()
    swapped = 1 - masked - kept
    assert abs(masked - 0.8) < 0.01 and abs(kept - 0.1) < 0.01 and abs(swapped - 0.1) < 0.01
    assert np.array_equal(inputs[~picked], ids[~picked])
    assert not np.isin(inputs[picked & (inputs != SPECIAL_TOKENS["[MASK]"])], list(SPECIAL_TOKENS.values())).any()


def _repeat_corpus(n, length=12, vocab=24, seed=0):
    """[CLS] a a a ...: a masked token is predictable from any unmasked one."""
    a = np.random.default_rng(seed).integers(len(SPECIAL_TOKENS), vocab, size=(n, 1))
    ids = np.concatenate([np.full((n, 1), SPECIAL_TOKENS["[CLS]"]), np.repeat(a, length - 1, axis=1)], axis=1)
    return ids.astype("int32"), a[:, 0]


def test_bert_pretrains_with_masking_then_fine_tunes_a_classifier():
    vocab = 24
    ids, first = _repeat_corpus(256, vocab=vocab)
    bert = zoo.get("bert", vocab_size=vocab, context_length=12, embed_dim=32, num_heads=2, num_layers=1, dropout=0.0)
    compile_from_recipe(bert, zoo.info("bert")["recipe"], learning_rate=3e-3)
    losses = []
    for epoch in range(4):  # fresh masks every epoch (dynamic masking)
        x, y, w = mask_tokens(ids, vocab, seed=epoch)
        losses += bert.fit(x, y, sample_weight=w, epochs=1, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.3 * losses[0]

    clf = zoo.get("bert_classifier", num_classes=2, encoder=bert, dropout=0.0)
    encoder = bert.get_layer("encoder")
    for a, b in zip(clf.get_layer("encoder").get_weights(), encoder.get_weights()):
        np.testing.assert_array_equal(a, b)  # starts from the pretrained encoder (a copy)
    labels = (first % 2).astype("int32")  # parity of the repeated token
    compile_from_recipe(clf, zoo.info("bert_classifier")["recipe"], learning_rate=1e-3)
    h = clf.fit(ids, labels, epochs=4, batch_size=32, verbose=0).history
    assert h["loss"][-1] < 0.3 * h["loss"][0] and h["accuracy"][-1] > 0.9
    assert not np.array_equal(clf.get_layer("encoder").get_weights()[0], encoder.get_weights()[0])  # a copy


def test_transformer_classifier_learns_and_ignores_padding(rng):
    vocab, length = 40, 12
    x = rng.integers(len(SPECIAL_TOKENS), vocab, size=(600, length)).astype("int32")
    y = (x == 7).any(axis=1).astype("int32")
    model = zoo.get("transformer_classifier", vocab_size=vocab, context_length=24, embed_dim=32, num_heads=2,
                    num_layers=1, num_classes=2, dropout=0.0, compile=True)
    model.fit(x[:500], y[:500], epochs=12, batch_size=32, verbose=0)
    assert model.evaluate(x[500:], y[500:], verbose=0, return_dict=True)["accuracy"] > 0.9
    padded = np.concatenate([x[:4], np.zeros((4, 6), "int32")], axis=1)
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(x[:4], verbose=0), atol=1e-5)


def test_bert_classifier_rejects_a_non_bert_encoder():
    with pytest.raises(ValueError, match="no 'encoder' sub-model"):
        zoo.get("bert_classifier", encoder=zoo.get("mlp"))
    with pytest.raises(ValueError, match="token_pooling='max'"):
        zoo.get("transformer_classifier", token_pooling="max")


def test_gpt_saves_and_loads_with_its_vocabulary(tmp_path):
    model = _tiny_gpt()
    path = str(tmp_path / "gpt.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(restored, GPT) and restored.vocabulary.chars == model.vocabulary.chars
    assert restored.generate("the", length=8, seed=1) == model.generate("the", length=8, seed=1)
