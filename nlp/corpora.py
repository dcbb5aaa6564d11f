"""Built-in text corpora and readers for plain-text files and directories.

Nothing is downloaded: ``python-docs`` is built from Python's own
``pydoc_data.topics`` (the text of ``help("assert")`` and friends, ~465k
characters of English with code), which every CPython installation ships.
``lee-background`` is the Lee news corpus from gensim's wheel (installed with
the ``test`` and ``bench`` extras only).

Every loader returns a ``list[str]`` split into ``unit``:

- ``"documents"``: one string per document (a help topic, a line of a ``.cor``
  file, a file of a directory),
- ``"paragraphs"``: blocks separated by blank lines,
- ``"sentences"``: a sentence splitter good enough for English prose,
- ``"lines"``: non-empty lines,
- ``"text"``: one string, the documents joined by a blank line (for
  character-level language models).

``tokenize_words`` is the word splitter the embeddings use by default (the same
rule as gensim's ``simple_preprocess``: lowercase alphabetic runs of 2 to 15
characters). ``load(..., tokenize=True)`` gives those token lists, for tools
that want lists of words: gensim's ``Word2Vec`` handed strings iterates their
characters, so its vocabulary holds ``' '`` and its files a word that no
word2vec reader can split from its numbers.
"""

from __future__ import annotations

import glob
import os
import re

from zoo.core.checks import check_bool, check_int, check_path, check_str, fail

__all__ = ["load", "list_corpora", "read_text_file", "read_directory", "split", "tokenize_words", "UNITS"]

UNITS = ("documents", "paragraphs", "sentences", "lines", "text")

_CORPORA = ("python-docs", "lee-background")

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n\s*\n")
_WORD = re.compile(r"(?:(?!\d)\w)+", re.UNICODE)


def list_corpora() -> list[str]:
    """Names accepted by :func:`load`."""
    return list(_CORPORA)


def load(name: str = "python-docs", unit: str = "documents", tokenize: bool = False):
    """Load a built-in corpus split into ``unit`` (see the module docstring); ``tokenize=True``: word lists.

    >>> docs = load("python-docs")               # 79 help topics
    >>> text = load("python-docs", unit="text")  # one string for char-level models
    >>> gensim.models.Word2Vec(load("lee-background", tokenize=True))  # lists of words, not strings
    """
    check_str("name", name, "corpora.load", accepted=f"a corpus name, one of {list(_CORPORA)}")
    if name not in _CORPORA:
        raise ValueError(f"unknown corpus name={name!r}; expected one of {list(_CORPORA)}")
    _check_unit(unit)
    check_bool("tokenize", tokenize, "corpora.load")
    if tokenize:
        pieces = load(name, unit)
        return tokenize_words(pieces) if unit == "text" else [tokenize_words(p) for p in pieces]
    if name == "python-docs":
        from pydoc_data.topics import topics

        documents = [topics[key].strip() for key in sorted(topics)]
    else:
        documents = _read_lines(_gensim_test_file("lee_background.cor"))
    return split(documents, unit)


def split(documents: list[str], unit: str = "documents") -> list[str] | str:
    """Split a list of documents into ``unit`` pieces; empty pieces are dropped."""
    _check_unit(unit)
    if isinstance(documents, (str, bytes)) or not hasattr(documents, "__iter__"):
        fail("documents", documents, "a list of strings (one per document)", "corpora.split", error=TypeError)
    documents = list(documents)
    for i, d in enumerate(documents):
        check_str(f"documents[{i}]", d, "corpora.split")
    documents = [d for d in documents if d.strip()]
    if unit == "documents":
        return documents
    if unit == "text":
        return "\n\n".join(documents)
    if unit == "lines":
        return [line for d in documents for line in d.splitlines() if line.strip()]
    paragraphs = [p.strip() for d in documents for p in _PARAGRAPH.split(d) if p.strip()]
    if unit == "paragraphs":
        return paragraphs
    # sentences: join a paragraph's wrapped lines, then split after . ! ? followed by a capital
    return [s.strip() for p in paragraphs for s in _SENTENCE_END.split(" ".join(p.split())) if s.strip()]


def read_text_file(path: str, unit: str = "lines", encoding: str = "utf-8") -> list[str] | str:
    """Read a UTF-8 text file; ``unit="lines"`` gives one string per non-empty line."""
    _check_unit(unit)
    check_path("path", path, "corpora.read_text_file")
    check_str("encoding", encoding, "corpora.read_text_file", accepted="an encoding name such as 'utf-8'")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"text file path={path!r} does not exist")
    with open(path, encoding=encoding, errors="replace") as f:
        text = f.read()
    return split([text], unit)


def read_directory(path: str, pattern: str = "**/*.txt", unit: str = "documents",
                   encoding: str = "utf-8") -> list[str] | str:
    """Read every file under ``path`` matching the glob ``pattern`` (sorted), one document per file."""
    _check_unit(unit)
    check_path("path", path, "corpora.read_directory")
    check_str("pattern", pattern, "corpora.read_directory", accepted="a glob such as '**/*.txt'")
    check_str("encoding", encoding, "corpora.read_directory", accepted="an encoding name such as 'utf-8'")
    if not os.path.isdir(path):
        raise FileNotFoundError(f"directory path={path!r} does not exist")
    files = sorted(f for f in glob.glob(os.path.join(path, pattern), recursive=True) if os.path.isfile(f))
    if not files:
        raise ValueError(f"no file under path={path!r} matches pattern={pattern!r}")
    documents = []
    for file in files:
        with open(file, encoding=encoding, errors="replace") as f:
            documents.append(f.read())
    return split(documents, unit)


def tokenize_words(text: str, min_len: int = 2, max_len: int = 15) -> list[str]:
    """Lowercase alphabetic words of ``min_len`` to ``max_len`` characters (gensim's ``simple_preprocess``)."""
    check_str("text", text, "tokenize_words")
    check_int("min_len", min_len, minimum=0, owner="tokenize_words")
    check_int("max_len", max_len, minimum=0, owner="tokenize_words")
    return [w for w in _WORD.findall(text.lower()) if min_len <= len(w) <= max_len and not w.startswith("_")]


def _check_unit(unit):
    if unit not in UNITS:
        raise ValueError(f"invalid unit={unit!r}; expected one of {list(UNITS)}")


def _read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.strip() for line in f if line.strip()]


def _gensim_test_file(filename):
    """Path of a file in gensim's ``test/test_data`` (gensim is in the test and bench extras)."""
    try:
        import gensim
    except ImportError as err:
        raise ImportError(
            f"{filename} ships inside gensim's wheel; install the test extra: pip install 'dlzoo[test]'"
        ) from err
    path = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", filename)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{filename} not found in the installed gensim at {path!r}")
    return path
