"""TF-native tokenizers: the Python path's ids from TensorFlow ops, in models, tf.data, SavedModels and serving."""

import json
import os
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nlp
from nlp.tokenizers import unicode_rules
from zoo import export

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pieces that break tokenizers: combining marks, emoji (with ZWJ and skin tone), RTL and bidi controls,
# control characters, NUL, odd whitespace, SentencePiece's space mark and our escape, special tokens, apostrophes
HOSTILE = ["e\u0301", "\u0301", "👩\u200d💻", "👍🏽", "שָׁלוֹם", "مرحبا", "\u202e", "\u200f", "\x00", "\x07", "\x1b",
           "\x1c", "\x85", "\u2028", "\u3000", "\u00a0", "\t", "\n", " ", "  ", "\u2581", "\ue000", "\ue000_", "<mask>",
           "<s>", "</s", "'", "’", "dog's", "ΟΔΟΣ", "İ", "ß", "ǅ", "Ⅻ", "²", "٣", "_", "-", ".", "a", "The", "x"]
hostile_text = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(HOSTILE), max_size=20).map("".join))


@pytest.fixture(scope="module")
def corpus():
    texts = nlp.corpora.load("python-docs", unit="sentences")[:400]
    return texts + ["".join(HOSTILE), " ".join(HOSTILE)]


@pytest.fixture(scope="module")
def toks(corpus):
    return {
        "bpe": nlp.SentencePieceTokenizer.train(corpus, vocab_size=700, model_type="bpe"),
        "unigram": nlp.SentencePieceTokenizer.train(corpus, vocab_size=700, model_type="unigram"),
        "words": nlp.WordTokenizer.train(corpus),
        "strip": nlp.WordTokenizer.train(corpus, punctuation="strip", lowercase=False),
        "keep": nlp.WordTokenizer.train(corpus, punctuation="keep"),
        "chars": nlp.CharTokenizer.train(corpus),
    }


@pytest.fixture(scope="module")
def graphs(toks):
    """Compiled calls per tokenizer, 1-D strings -> ids: ``tok(t)`` (padded to the longest) and its layer (24, bos, eos)."""
    spec = [tf.TensorSpec([None], tf.string)]
    return {name: (tf.function(lambda t, tok=tok: tok(t), input_signature=spec),
                   tf.function(tok.as_layer(sequence_length=24, add_bos=True, add_eos=True), input_signature=spec))
            for name, tok in toks.items()}


def assert_same_ids(tok, got, expected, texts, name):
    """Exact ids; for unigram, ids may differ only between segmentations of exactly equal score.

    tensorflow-text's built-in SentencePiece and the sentencepiece package break
    Viterbi ties differently (a run ``___`` as ``__ _`` or ``_ __``): same text, same score.
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if name != "unigram" or got.shape != expected.shape:
        np.testing.assert_array_equal(got, expected, err_msg=name)
        return
    score = np.vectorize(tok.processor.get_score, otypes=[float])
    for text, g, e in zip(texts, got, expected):
        if not np.array_equal(g, e):
            assert tok.decode(g) == text and score(g).sum() == pytest.approx(score(e).sum(), abs=1e-4), text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(hostile_text, min_size=1, max_size=6))
def test_ids_equal_the_python_path_on_hostile_text(toks, graphs, texts):
    for name, tok in toks.items():
        plain, expected = graphs[name][0](tf.constant(texts)).numpy(), tok.encode(texts, padding="longest")
        assert_same_ids(tok, plain, expected, texts, name)
        if np.array_equal(plain, expected):  # not a unigram tie: the layer (cut to 24, bos, eos) is exact too
            expected = tok.encode(texts, max_length=24, padding="max_length", add_bos=True, add_eos=True)
            np.testing.assert_array_equal(graphs[name][1](tf.constant(texts)).numpy(), expected, err_msg=name)


def test_very_long_and_empty_strings(toks, rng):
    pool = [c for piece in HOSTILE for c in piece] + list("abcdefgh ")
    long = "".join(rng.choice(pool, size=60_000))
    texts = [long, "", " ", "\n\t", "\x00"]
    for name, tok in toks.items():
        assert_same_ids(tok, tok(tf.constant(texts)).numpy(), tok.encode(texts, padding=True), texts, name)
        assert tok(tf.constant("")).numpy().tolist() == [] and tok(tf.constant([""])).shape == (1, 0)


def test_invalid_utf8_is_replaced_as_python_decodes_it(toks):
    raw = [b"\xff abc \xc3", b"a\xe2\x82", b"\xed\xa0\x80x", b"\xc0\xaf", b"\xf4\x90\x80\x80"]
    for name in ("chars", "words", "bpe"):
        tok = toks[name]
        expected = tok.encode([b.decode("utf-8", "replace") for b in raw], padding=True)
        np.testing.assert_array_equal(tok(tf.constant(raw)).numpy(), expected, err_msg=name)


def test_unicode_rules_are_pythons():
    word, space = unicode_rules.word_ranges(), unicode_rules.space_ranges()

    def inside(ranges, cp):
        return any(a <= cp <= b for a, b in ranges)

    probe = list(range(0x3000)) + list(range(0x10000, 0x10400)) + list(range(0x1F300, 0x1F700))
    for cp in probe:
        c = chr(cp)
        assert inside(word, cp) == bool(re.match(r"\w", c)), hex(cp)
        assert inside(space, cp) == bool(re.match(r"\s", c)), hex(cp)
    # the one rule changed so both paths agree: lowercasing is per character (no final-sigma context)
    words = nlp.WordTokenizer.train(["x"])
    assert words.split("ΟΔΟΣ İ") == ["οδοσ", "i\u0307"]
    assert words.split("e\u0301t\u00e9") == ["e", "\u0301", "t\u00e9"]  # Python's \w has no combining marks


def test_a_model_takes_raw_strings_in_eager_tf_data_and_keras_files(toks, corpus, tmp_path):
    tok = toks["words"]
    texts = corpus[:6]
    expected = tok.encode(texts, max_length=10, padding="max_length")
    for shape, feed in (((), tf.constant(texts)), ((1,), tf.constant(texts)[:, None])):
        inputs = keras.Input(shape=shape, dtype="string")
        model = keras.Model(inputs, tok.as_layer(sequence_length=10)(inputs))
        np.testing.assert_array_equal(model(feed).numpy(), expected)
    layer = tok.as_layer(sequence_length=10)
    mapped = tf.data.Dataset.from_tensor_slices(texts).batch(3).map(layer)
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in mapped]), expected)
    single = tf.data.Dataset.from_tensor_slices(texts).map(toks["bpe"])  # tok(tensor): no py_function either
    assert [t.numpy().tolist() for t in single] == toks["bpe"].encode(texts)
    for name in ("bpe", "words", "chars"):  # the layer's graph holds no Python callback
        graph = tf.function(toks[name].as_layer()).get_concrete_function(tf.TensorSpec([None], tf.string)).graph
        assert not {"PyFunc", "EagerPyFunc"} & {op.type for op in graph.get_operations()}
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded(tf.constant(texts)[:, None]).numpy(), expected)


def test_a_classifier_with_its_tokenizer_trains_with_fit(toks):
    tok = toks["chars"]
    inputs = keras.Input(shape=(), dtype="string")
    x = keras.layers.Embedding(tok.vocab_size, 8)(tok.as_layer(sequence_length=12)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling1D()(x)))
    model.compile("adam", "binary_crossentropy")  # jit_compile="auto": the layer turns XLA off
    texts, labels = tf.constant(["aaa", "bbb", "aab", "bba"] * 4), tf.constant([1.0, 0.0, 1.0, 0.0] * 4)
    history = model.fit(texts, labels, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_sentencepiece_samples_only_in_training(corpus):
    tok = nlp.SentencePieceTokenizer.train(corpus, vocab_size=700, model_type="unigram", enable_sampling=True, alpha=0.5)
    layer = tok.as_layer()
    text = tf.constant(["assertion statements are convenient"] * 8)
    sampled = {tuple(r) for r in layer(text, training=True).numpy().tolist()}
    assert len(sampled) > 1 and all(tok.decode(list(s)) == text[0].numpy().decode() for s in sampled)
    fixed = tok.encode("assertion statements are convenient", enable_sampling=False)
    assert layer(text).numpy().tolist() == [fixed] * 8


def test_bad_inputs_and_options_are_refused(toks):
    tok = toks["chars"]
    with pytest.raises(ValueError, match=r"invalid text tensor of shape \(2, 3\)"):
        tok.as_layer()(tf.constant([["a"] * 3] * 2))
    with pytest.raises(ValueError, match="invalid padding='left'"):
        tok.tf_encode(tf.constant(["a"]), padding="left")
    with pytest.raises(ValueError, match="invalid sequence_length=1; expected at least 2"):
        tok.as_layer(sequence_length=1, add_bos=True, add_eos=True)


def test_litert_export_names_the_ops_and_what_works(toks, tmp_path):
    tok = toks["words"]
    inputs = keras.Input(shape=(), dtype="string")
    model = keras.Model(inputs, keras.layers.Embedding(tok.vocab_size, 4)(tok.as_layer(sequence_length=8)(inputs)))
    with pytest.raises(ValueError, match=r"no kernel for the TensorFlow ops .*HashTableV2.*TokenizerLayer.*"
                                         r"tokenise outside the model"):
        export.litert(model, tmp_path / "m.tflite")
    from zoo.inference import LiteRTModel

    ids_in = keras.Input(shape=(8,), dtype="int32")  # what works: the model from ids, tokenised outside
    body = keras.Model(ids_in, model.layers[-1](ids_in))
    ids = tok.encode(["the cat", "a dog"], max_length=8, padding="max_length")
    runner = LiteRTModel(export.litert(body, tmp_path / "ids.tflite"))
    np.testing.assert_allclose(runner.predict_batch(ids), model(tf.constant(["the cat", "a dog"])).numpy(), atol=1e-6)


CHILD = textwrap.dedent("""
    import json, socket, sys, threading, time, urllib.request
    import tensorflow as tf
    texts = json.loads(sys.argv[1])
    out = {}
    for name in ("words", "chars"):  # core TensorFlow ops only: no tensorflow_text needed
        fn = tf.saved_model.load(sys.argv[2] + "/" + name).signatures["serving_default"]
        out[name] = {k: v.numpy().tolist() for k, v in fn(tf.constant(texts)).items()}
    out["tf_text_before_serve"] = "tensorflow_text" in sys.modules
    import numpy as np
    import zoo
    out["nlp_before_keras"] = "nlp" in sys.modules
    from zoo.deploy.runtimes import load  # a .keras file with the layer: zoo's loader defines nlp's classes
    out["keras"] = load(sys.argv[2] + "/words.keras").predict_batch(np.array(texts, dtype=object))[0].tolist()
    from zoo.cli import main
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    codes = []
    thread = threading.Thread(target=lambda: codes.append(main(["serve", sys.argv[2] + "/bpe", "--port", str(port),
                              "--max-requests", "2", "--timeout", "60"])), daemon=True)
    thread.start()
    def post(payload):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/bpe:predict", json.dumps(payload).encode(),
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())
    for _ in range(200):
        try:
            out["serve"] = post({"instances": texts})
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    out["serve_numbers"] = post({"instances": [1, 2]})
    thread.join(30)
    out["codes"] = codes
    fn = tf.saved_model.load(sys.argv[2] + "/bpe").signatures["serving_default"]
    out["bpe"] = {k: v.numpy().tolist() for k, v in fn(tf.constant(texts)).items()}
    print("RESULT" + json.dumps(out))
""")


def test_exported_models_take_strings_in_another_process_and_serve(toks, tmp_path):
    texts = ["some text", "", "emoji 😀 שָׁלוֹם e\u0301 \x00 <mask>", "Tabs\tand  SPACES."]
    expected = {}
    for name in ("words", "chars", "bpe"):
        tok = toks[name]
        inputs = keras.Input(shape=(), dtype="string")
        ids = tok.as_layer(sequence_length=12, add_bos=True)(inputs)
        scores = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(tok.vocab_size,
                                                                                                     3)(ids)))
        model = keras.Model(inputs, [ids, scores])
        if name == "words":
            model.export(str(tmp_path / name), verbose=False)
            export.keras_file(model, tmp_path / "words.keras")
        else:
            export.saved_model(model, tmp_path / name)
        out = model(tf.constant(texts))
        np.testing.assert_array_equal(out[0].numpy(), tok.encode(texts, max_length=12, padding="max_length",
                                                                 add_bos=True))
        expected[name] = [o.numpy() for o in out]
    env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(texts), str(tmp_path)], capture_output=True,
                          text=True, timeout=240, env=env, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT")]
    assert lines, proc.stderr[-3000:]
    got = json.loads(lines[0][len("RESULT"):])
    for name in ("words", "chars", "bpe"):
        outs = got[name]
        ids_key = next(k for k, v in outs.items() if np.asarray(v).dtype.kind == "i")
        np.testing.assert_array_equal(outs[ids_key], expected[name][0])
        score_key = next(k for k in outs if k != ids_key)
        np.testing.assert_allclose(outs[score_key], expected[name][1], atol=1e-5)
    assert got["tf_text_before_serve"] is False and got["nlp_before_keras"] is False
    np.testing.assert_array_equal(got["keras"], expected["words"][0])
    status, reply = got["serve"]
    assert status == 200
    np.testing.assert_array_equal(reply["predictions"][0], expected["bpe"][0])
    np.testing.assert_allclose(reply["predictions"][1], expected["bpe"][1], atol=1e-5)
    assert got["serve_numbers"][0] == 400 and "must be a list of strings" in got["serve_numbers"][1]["error"]
    assert got["codes"] == [0]
