"""word2vec files from gensim and from the C tool's byte layout load exactly as gensim loads them; gensim conversion."""

import struct
import sys
import warnings

import numpy as np
import pytest

import nlp
from nlp import FastTextVectors, KeyedVectors

gensim_models = pytest.importorskip("gensim.models")
GensimKV = gensim_models.KeyedVectors

# whitespace other than " " and "\n" stays inside a word in both formats (gensim splits records on those two only)
ODD = ["the", "caf\u00a0e", "tab\tword", "line\u2028sep", "na\u00efve", "cr\rword", "nel\x85"]


def odd_vectors(n=None, dim=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n or len(ODD), dim)).astype(np.float32)


def gensim_kv(words, vectors):
    kv = GensimKV(vectors.shape[1])
    kv.add_vectors(list(words), vectors)
    return kv


def same_as_gensim(path, binary, **kwargs):
    """dlzoo's load of ``path`` has gensim's words, order and float32 vectors; returns it."""
    ours = KeyedVectors.load_word2vec_format(path, binary=None, **kwargs)  # format detected
    theirs = GensimKV.load_word2vec_format(path, binary=binary, **kwargs)
    n = len(theirs.key_to_index)  # after duplicates gensim 4.4 leaves None keys (zero rows) at the end
    assert all(k is None for k in theirs.index_to_key[n:])
    assert ours.words == list(theirs.index_to_key[:n])
    assert ours.vectors.dtype == np.float32 and np.array_equal(ours.vectors, theirs.vectors[:n])
    return ours


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_files_with_odd_whitespace(tmp_path, binary):
    vectors = odd_vectors()
    path = str(tmp_path / "odd.w2v")
    gensim_kv(ODD, vectors).save_word2vec_format(path, binary=binary)
    ours = same_as_gensim(path, binary)
    assert ours.words == ODD and np.array_equal(ours.vectors, vectors)
    assert same_as_gensim(path, binary, limit=3).words == ODD[:3]


@pytest.mark.parametrize("binary", [False, True])
def test_round_trips_dlzoo_to_gensim_and_back(tmp_path, binary):
    words, vectors = ODD + ["", "zz"], odd_vectors(len(ODD) + 2, dim=7, seed=1)
    vectors[0, 0], vectors[1, 1] = -0.0, 1e-38  # signed zero and a tiny value survive the text form
    path = KeyedVectors(words, vectors).save_word2vec_format(str(tmp_path / "ours.w2v"), binary=binary)
    theirs = GensimKV.load_word2vec_format(path, binary=binary)
    assert list(theirs.index_to_key) == words and np.array_equal(theirs.vectors, vectors)
    back = str(tmp_path / "theirs.w2v")
    theirs.save_word2vec_format(back, binary=binary)
    again = same_as_gensim(back, binary)
    assert again.words == words and np.array_equal(again.vectors, vectors)
    assert np.signbit(again.vectors[0, 0])


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_appended_file_with_duplicates_keeps_first(tmp_path, binary):
    path, vectors = str(tmp_path / "dup.w2v"), odd_vectors(6, seed=2)
    gensim_kv(["a", "b", "c"], vectors[:3]).save_word2vec_format(path, binary=binary, total_vec=6)
    gensim_kv(["b", "d", "a"], vectors[3:]).save_word2vec_format(path, binary=binary, append=True, write_header=False)
    with pytest.warns(RuntimeWarning, match=r"2 duplicate word\(s\) kept at their first row only.*\['b', 'a'\]"):
        ours = same_as_gensim(path, binary)
    assert ours.words == ["a", "b", "c", "d"] and np.array_equal(ours.vectors, vectors[[0, 1, 2, 4]])


def c_tool_file(path, words, vectors, binary):
    """The bytes word2vec.c writes: ``%lf `` per number and a newline (text) or raw floats then a newline (binary)."""
    with open(path, "wb") as f:
        f.write(b"%d %d\n" % vectors.shape)
        for word, vec in zip(words, vectors):
            f.write(word + b" ")
            if binary:
                f.write(struct.pack(f"<{len(vec)}f", *vec))
            else:
                f.write(b"".join(b"%lf " % v for v in vec))
            f.write(b"\n")


@pytest.mark.parametrize("binary", [False, True])
def test_c_tool_byte_layout(tmp_path, binary):
    words = [b"</s>", b"the", b"caf\xc3\xa9", b"\xc2\xa0nbsp"]
    vectors = odd_vectors(4, dim=3, seed=3)
    path = str(tmp_path / "c.w2v")
    c_tool_file(path, words, vectors, binary)
    ours = same_as_gensim(path, binary)
    assert ours.words == ["</s>", "the", "caf\u00e9", "\u00a0nbsp"]
    expected = vectors if binary else np.array([[float(b"%lf" % v) for v in row] for row in vectors], np.float32)
    assert np.array_equal(ours.vectors, expected)


def test_binary_detection_when_float_bytes_read_as_text(tmp_path):
    vectors = np.frombuffer(b"1\n\x00\x00" + b"\x00\x00\x80?" * 2, "<f4").reshape(1, 3)  # bytes '1\n..'
    path = str(tmp_path / "tricky.bin")
    c_tool_file(path, [b"word", b"next"], np.concatenate([vectors, vectors[:, ::-1]]), True)
    assert np.array_equal(same_as_gensim(path, True).vectors[0], vectors[0])
    (tmp_path / "few.txt").write_text("2 3\nman 1 2\nwoman 3 4\n")  # too few numbers: still told as text
    with pytest.raises(ValueError, match=r"few.txt:2: expected a word and 3 numbers, got 2 fields"):
        KeyedVectors.load_word2vec_format(str(tmp_path / "few.txt"))


@pytest.mark.parametrize("binary", [False, True])
def test_invalid_utf8_under_each_unicode_errors(tmp_path, binary):
    # the C tool cuts words at 100 bytes, inside a character: b"caf\xc3" is half of "café"; two cut words collide
    words = [b"ok", b"caf\xc3", b"caf\xc3\xa9", b"caf\xe2"]
    path = str(tmp_path / "cut.w2v")
    c_tool_file(path, words, odd_vectors(4, dim=2, seed=4), binary)
    with pytest.raises(ValueError, match=r"cut.w2v: (line 3|word 2): b'caf\\xc3[ '].* is not valid utf-8 .*'ignore'"):
        KeyedVectors.load_word2vec_format(path)
    with pytest.raises(UnicodeDecodeError):
        GensimKV.load_word2vec_format(path, binary=binary)
    with pytest.warns(RuntimeWarning, match="\\['caf\ufffd'\\]"):
        replaced = same_as_gensim(path, binary, unicode_errors="replace")
    assert replaced.words == ["ok", "caf\ufffd", "caf\u00e9"]
    with pytest.warns(RuntimeWarning, match=r"\['caf'\]"):
        ignored = same_as_gensim(path, binary, unicode_errors="ignore")
    assert ignored.words == ["ok", "caf", "caf\u00e9"]
    latin = KeyedVectors.load_word2vec_format(path, encoding="latin-1")
    assert latin.words == [w.decode("latin-1") for w in words]


def test_headerless_text_file_as_glove_writes_it(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("the 0.5 -1.25 2\nof 1e-3 0 -0\n", encoding="utf-8")
    ours = KeyedVectors.load_word2vec_format(str(path), no_header=True)
    theirs = GensimKV.load_word2vec_format(str(path), no_header=True)
    assert ours.words == list(theirs.index_to_key) == ["the", "of"]
    assert np.array_equal(ours.vectors, theirs.vectors)
    assert KeyedVectors.load_word2vec_format(str(path), no_header=True, limit=1).words == ["the"]


def test_lee_corpus_strings_given_to_gensim(tmp_path):
    """The 'invalid words: duplicates' report: gensim iterates strings' characters, so ' ' becomes a word."""
    docs = nlp.corpora.load("lee-background")[:40]
    chars = gensim_models.Word2Vec(docs, vector_size=4, min_count=1, epochs=1, workers=1, seed=0)
    assert " " in chars.wv.key_to_index
    text, binary = str(tmp_path / "chars.txt"), str(tmp_path / "chars.bin")
    chars.wv.save_word2vec_format(text)
    chars.wv.save_word2vec_format(binary, binary=True)
    with pytest.raises(ValueError, match=r"chars.txt:\d+: expected a word and 4 numbers, got 5 fields.*a ' ' word"):
        KeyedVectors.load_word2vec_format(text)  # detected as text (it was parsed as binary: garbage, duplicates)
    with pytest.raises(ValueError):
        GensimKV.load_word2vec_format(text)
    with pytest.raises(UnicodeDecodeError):  # the ' ' word shifts every later record by one byte
        GensimKV.load_word2vec_format(binary, binary=True)
    with pytest.raises(ValueError, match="is not valid utf-8"):
        KeyedVectors.load_word2vec_format(binary)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the shifted garbage holds repeated words
        assert same_as_gensim(binary, True, unicode_errors="replace").words[:2] == ["", "\ufffde"]
    words = gensim_models.Word2Vec(nlp.corpora.load("lee-background", tokenize=True)[:40], vector_size=4,
                                   min_count=1, epochs=1, workers=1, seed=0)
    words.wv.save_word2vec_format(text)
    assert all(w and not any(c.isspace() for c in w) for w in same_as_gensim(text, False).words)


def test_gensim_conversion_both_ways():
    model = gensim_models.Word2Vec([["king", "queen", "man", "woman"] * 3, ["apple", "pear"] * 4], vector_size=6,
                                   min_count=1, epochs=2, workers=1, seed=0)
    ours = KeyedVectors.from_gensim(model)  # a model or its .wv
    assert type(ours) is KeyedVectors and ours.words == list(model.wv.index_to_key)
    assert np.array_equal(ours.vectors, model.wv.vectors)
    assert ours.counts == [model.wv.get_vecattr(w, "count") for w in ours.words] and ours.get_count("pear") == 4
    back = ours.to_gensim()
    assert isinstance(back, GensimKV) and list(back.index_to_key) == ours.words
    assert np.array_equal(back.vectors, ours.vectors)
    assert [back.get_vecattr(w, "count") for w in ours.words] == ours.counts
    assert [w for w, _ in back.most_similar("king", topn=3)] == [w for w, _ in ours.most_similar("king", topn=3)]
    with pytest.raises(TypeError, match=r"from_gensim: invalid kv=\[1, 2\]; expected a gensim KeyedVectors"):
        KeyedVectors.from_gensim([1, 2])
    tagged = GensimKV(2)
    tagged.add_vectors([0, 1], np.zeros((2, 2), np.float32))
    with pytest.raises(TypeError, match="key 0 is not a word"):
        KeyedVectors.from_gensim(tagged)


def test_fasttext_conversion_both_ways():
    model = gensim_models.FastText([["attack", "attacks", "attacker", "defence"] * 3], vector_size=4, min_count=1,
                                   epochs=1, workers=1, seed=0, bucket=64, min_n=3, max_n=4)
    ours = FastTextVectors.from_gensim(model.wv)
    assert isinstance(ours, FastTextVectors) and ours.words == list(model.wv.index_to_key)
    assert (ours.bucket, ours.min_n, ours.max_n) == (64, 3, 4)
    for word in ("attack", "attacked", "zebra"):  # in the vocabulary, unseen, no shared n-gram
        np.testing.assert_allclose(ours[word], model.wv[word], rtol=1e-6, atol=1e-7)
    back = ours.to_gensim()
    assert isinstance(back, gensim_models.fasttext.FastTextKeyedVectors)
    assert np.array_equal(back.vectors, ours.vectors) and np.array_equal(back.vectors_ngrams, ours.ngram_vectors)
    np.testing.assert_allclose(back["attacked"], ours["attacked"], rtol=1e-6, atol=1e-7)
    back.adjust_vectors()  # gensim rebuilds the word vectors from its word-only rows and the n-grams
    np.testing.assert_allclose(back.vectors, ours.vectors, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="FastTextVectors.from_gensim: invalid kv=.*n-gram vectors"):
        FastTextVectors.from_gensim(gensim_kv(["a"], np.ones((1, 2), np.float32)))


@pytest.mark.parametrize("binary", [False, True])
def test_vocabulary_file_both_ways_with_gensim(tmp_path, binary):
    """``fvocab=``: the counts file gensim (and the C tool's -save-vocab) writes and reads, ``word count`` lines."""
    words, vectors = ["the", "caf\u00e9", "na\u00efve", "zz"], odd_vectors(4, seed=2)  # gensim splits its lines on any whitespace
    ours = KeyedVectors(words, vectors, counts=[90, 12, 12, 3])
    path, vocab = str(tmp_path / "v.w2v"), str(tmp_path / "vocab.txt")
    ours.save_word2vec_format(path, binary=binary, fvocab=vocab)
    assert open(vocab, encoding="utf-8").read() == "the 90\ncaf\u00e9 12\nna\u00efve 12\nzz 3\n"
    theirs = GensimKV.load_word2vec_format(path, binary=binary, fvocab=vocab)
    assert [theirs.get_vecattr(w, "count") for w in words] == [90, 12, 12, 3]
    gensim_path, gensim_vocab = str(tmp_path / "g.w2v"), str(tmp_path / "g.vocab")
    theirs.save_word2vec_format(gensim_path, fvocab=gensim_vocab, binary=binary)
    again = KeyedVectors.load_word2vec_format(gensim_path, fvocab=gensim_vocab)
    assert again.words == words and again.counts == [90, 12, 12, 3] and np.array_equal(again.vectors, vectors)
    assert KeyedVectors.load_word2vec_format(gensim_path).counts is None  # no vocabulary file: no counts
    # an incomplete file: the missing words have no count (None) and a warning (gensim 4.4 means to, and raises)
    (tmp_path / "part.txt").write_text("zz 3\nthe 90\n", encoding="utf-8")
    with pytest.warns(RuntimeWarning, match=r"incomplete: 2 word\(s\) have no count"):
        part = nlp.load_word2vec_format(path, fvocab=str(tmp_path / "part.txt"))
    assert part.counts == [90, None, None, 3] and part.get_count("zz") == 3 and part.get_count("na\u00efve") is None
    part.save_word2vec_format(str(tmp_path / "p.w2v"), fvocab=str(tmp_path / "p.vocab"))  # words without one left out
    assert open(tmp_path / "p.vocab", encoding="utf-8").read() == "the 90\nzz 3\n"
    odd = KeyedVectors(ODD, odd_vectors(), counts=list(range(len(ODD), 0, -1)))  # a line splits at its last space
    odd.save_word2vec_format(path, binary=binary, fvocab=vocab)
    assert KeyedVectors.load_word2vec_format(path, fvocab=vocab).counts == odd.counts


def test_vocabulary_file_errors(tmp_path):
    path = KeyedVectors(["a", "b"], np.ones((2, 3))).save_word2vec_format(str(tmp_path / "v.txt"))
    with pytest.raises(ValueError, match=r"save_word2vec_format: invalid fvocab='.*vocab.txt'; expected None: these "
                                         r"vectors have no counts"):
        KeyedVectors(["a"], np.ones((1, 2))).save_word2vec_format(str(tmp_path / "w.txt"), fvocab=str(tmp_path / "vocab.txt"))
    assert not (tmp_path / "w.txt").exists() and not (tmp_path / "vocab.txt").exists()  # nothing written
    with pytest.raises(FileNotFoundError, match="vocabulary file fvocab='.*nope.txt' does not exist"):
        KeyedVectors.load_word2vec_format(path, fvocab=str(tmp_path / "nope.txt"))
    for text in ("a 3\nb three\n", "a 3\nb\n", "a -1\n"):
        (tmp_path / "bad.txt").write_text(text)
        with pytest.raises(ValueError, match=r"bad.txt: line \d: .* is not 'word count'"):
            KeyedVectors.load_word2vec_format(path, fvocab=str(tmp_path / "bad.txt"))
    with pytest.raises(ValueError, match=r"KeyedVectors: invalid counts=\[1\]; expected None or a sequence of 2"):
        KeyedVectors(["a", "b"], np.ones((2, 3)), counts=[1])
    with pytest.raises(ValueError, match=r"invalid counts=-2; expected None or a sequence of 2 non-negative"):
        KeyedVectors(["a", "b"], np.ones((2, 3)), counts=[1, -2])
    with pytest.raises(KeyError, match="word 'c' not in the vocabulary"):
        KeyedVectors(["a", "b"], np.ones((2, 3)), counts=[1, 2]).get_count("c")


def test_to_gensim_without_gensim_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gensim", None)
    with pytest.raises(ImportError, match=r"needs gensim: pip install 'dlzoo\[test\]'"):
        KeyedVectors(["a"], np.ones((1, 2))).to_gensim()


def test_bad_files_and_arguments(tmp_path):
    good = KeyedVectors(["a", "b"], np.ones((2, 3))).save_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    data = open(good, "rb").read()
    (tmp_path / "cut.bin").write_bytes(data[:-6])
    with pytest.raises(ValueError, match="truncated binary vectors file: the header says 2 words, found 1"):
        KeyedVectors.load_word2vec_format(str(tmp_path / "cut.bin"))
    (tmp_path / "cut.txt").write_text("2 3\na 1 2 3\n")
    with pytest.raises(ValueError, match="truncated file: the header says 2 words, the file has 1 vector lines"):
        KeyedVectors.load_word2vec_format(str(tmp_path / "cut.txt"))
    (tmp_path / "head.txt").write_text("2 3 4\na 1 2 3\n")
    with pytest.raises(ValueError, match=r"invalid word2vec header b'2 3 4\\n'.*no_header=True"):
        KeyedVectors.load_word2vec_format(str(tmp_path / "head.txt"))
    (tmp_path / "num.txt").write_text("1 2\na 1 x\n")
    with pytest.raises(ValueError, match=r"num.txt:2: invalid number in the vector of 'a'"):
        KeyedVectors.load_word2vec_format(str(tmp_path / "num.txt"), binary=False)
    for kwargs, match in [({"unicode_errors": "loose"}, r"invalid unicode_errors='loose'; expected one of 'strict'"),
                          ({"limit": 0}, "invalid limit=0"), ({"encoding": "klingon"}, "invalid encoding='klingon'"),
                          ({"binary": "yes"}, "invalid binary='yes'"),
                          ({"no_header": True, "binary": True}, "invalid binary=True; expected False or None with")]:
        with pytest.raises(ValueError, match=match):
            KeyedVectors.load_word2vec_format(good, **kwargs)
    for word in ("new york", "two\nlines"):
        with pytest.raises(ValueError, match="containing a space or a newline"):
            KeyedVectors([word], np.ones((1, 2))).save_word2vec_format(str(tmp_path / "x.txt"))
    with pytest.raises(ValueError, match=r"invalid words: duplicates \['a'\]"):
        KeyedVectors(["a", "b", "a"], np.ones((3, 2)))
