import pytest

from nlp import corpora


def test_python_docs_corpus_in_every_unit():
    docs = corpora.load("python-docs")
    assert len(docs) > 50 and all(isinstance(d, str) and d for d in docs)
    assert any("assert" in d for d in docs)
    sentences = corpora.load("python-docs", unit="sentences")
    paragraphs = corpora.load("python-docs", unit="paragraphs")
    assert len(sentences) > len(paragraphs) > len(docs)
    assert all("\n" not in s for s in sentences)
    text = corpora.load("python-docs", unit="text")
    assert isinstance(text, str) and len(text) > 100_000
    assert corpora.load("python-docs") == docs  # deterministic


def test_sentence_splitter():
    assert corpora.split(["One here. Two there! Three? yes"], "sentences") == ["One here.", "Two there!", "Three? yes"]
    assert corpora.split(["a\n\n\nb\nc", ""], "paragraphs") == ["a", "b\nc"]
    assert corpora.split(["a\n\nb"], "lines") == ["a", "b"]


def test_lee_background_from_gensim():
    pytest.importorskip("gensim")
    docs = corpora.load("lee-background")
    assert len(docs) == 300


def test_file_and_directory_readers(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("first line\n\nsecond line\n")
    (tmp_path / "sub" / "b.txt").write_text("Other file. Two sentences.")
    (tmp_path / "skip.md").write_text("not matched")
    assert corpora.read_text_file(str(tmp_path / "a.txt")) == ["first line", "second line"]
    assert corpora.read_directory(str(tmp_path)) == ["first line\n\nsecond line\n", "Other file. Two sentences."]
    assert corpora.read_directory(str(tmp_path), unit="sentences")[-2:] == ["Other file.", "Two sentences."]
    with pytest.raises(ValueError, match="no file under path=.* matches pattern='\\*.csv'"):
        corpora.read_directory(str(tmp_path), pattern="*.csv")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        corpora.read_text_file(str(tmp_path / "missing.txt"))


def test_word_splitter_matches_gensim_simple_preprocess():
    gensim_utils = pytest.importorskip("gensim.utils")
    for doc in corpora.load("python-docs")[:20]:
        assert corpora.tokenize_words(doc) == gensim_utils.simple_preprocess(doc)


def test_bad_names_and_units():
    with pytest.raises(ValueError, match=r"unknown corpus name='wiki'; expected one of \['python-docs'"):
        corpora.load("wiki")
    with pytest.raises(ValueError, match="invalid unit='words'"):
        corpora.load("python-docs", unit="words")


@pytest.mark.parametrize("name", corpora.list_corpora())
def test_no_whitespace_tokens_in_any_corpus_or_unit(name):
    if name == "lee-background":
        pytest.importorskip("gensim")
    import nlp

    splitters = [nlp.WordTokenizer([], punctuation=p).split for p in nlp.WordTokenizer.PUNCTUATION]
    for unit in corpora.UNITS:
        tokens = corpora.load(name, unit, tokenize=True)
        pieces = corpora.load(name, unit)
        assert tokens == ([corpora.tokenize_words(p) for p in pieces] if unit != "text" else corpora.tokenize_words(pieces))
        flat = tokens if unit == "text" else [t for doc in tokens for t in doc]
        assert flat and all(t and not any(c.isspace() for c in t) for t in flat), unit
    # the word tokenizer's three punctuation rules, over every document (every unit holds the same text)
    words = [t for split in splitters for doc in corpora.load(name) for t in split(doc)]
    assert words and not [t for t in words if not t or any(c.isspace() for c in t)]
    with pytest.raises(ValueError, match="corpora.load: invalid tokenize='yes'; expected True or False"):
        corpora.load(name, tokenize="yes")
