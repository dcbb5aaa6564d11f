"""The word2vec text and binary formats as gensim and the original C tool write them, and gensim conversion.

Reading follows gensim 4's ``load_word2vec_format`` byte for byte, so a file loads
with the same words, in the same order, with the same float32 vectors:

- a header line ``<words> <dimensions>``, then one record per word;
- text: lines split on ``\\n`` only; trailing ASCII whitespace (the C tool's
  trailing space, ``\\r``) is stripped, then the line splits on ``" "``: the word
  is the first field, so any other whitespace (a non-breaking space, a tab,
  ``\\u2028``) stays inside the word;
- binary: the word runs to the first space byte, then ``4 * dimensions`` bytes of
  little-endian float32; the C tool's ``\\n`` after each vector (gensim writes
  none) is stripped from the start of the next word;
- words decode with ``encoding`` and ``unicode_errors`` (``"strict"``, gensim's
  default, ``"replace"`` or ``"ignore"``: the C tool cuts long words inside a
  multi-byte character);
- a word seen again keeps its first vector (a warning counts them); ``limit``
  counts records read.

The vocabulary file (``fvocab``, the C tool's ``-save-vocab``, gensim's ``fvocab=``) is one
``word count`` line per word, split at its last space (gensim splits at any whitespace, so it cannot
read the line of a word holding a non-breaking space or a tab); words missing from it have no count
(``None``).

Nothing here uses pickle. gensim is imported only by the conversion functions.
"""

from __future__ import annotations

import codecs
import os
import warnings

import numpy as np

from zoo.core.checks import check_bool, check_choice, check_int, check_path, fail

__all__ = ["UNICODE_ERRORS", "read_word2vec", "write_word2vec", "from_gensim", "to_gensim"]

#: Accepted values of ``unicode_errors`` (the decoding error handlers that make sense for words).
UNICODE_ERRORS = ("strict", "replace", "ignore")

_CHUNK = 1 << 20
_MAX_HEADER = 1024
_GENSIM_HINT = "pip install 'dlzoo[test]' (gensim is in the test and bench extras)"


def check_read_args(path, binary, limit, unicode_errors, encoding, no_header, owner="load_word2vec_format"):
    """Validate the reader's arguments (before the file is opened)."""
    check_path("path", path, owner, accepted="a path to a word2vec file")
    check_choice("binary", binary, (None, True, False), owner)
    check_int("limit", limit, 1, owner=owner, allow_none=True)
    check_choice("unicode_errors", unicode_errors, UNICODE_ERRORS, owner)
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        fail("encoding", encoding, "a text encoding Python knows, such as 'utf-8' or 'latin-1'", owner)
    check_bool("no_header", no_header, owner)
    if no_header and binary:
        fail("binary", binary, "False or None with no_header=True (a binary file always has a header)", owner)


def read_word2vec(path, binary=None, limit=None, unicode_errors="strict", encoding="utf-8", no_header=False,
                  fvocab=None):
    """``(words, float32 vectors, counts)`` from a word2vec file (``counts``: from the vocabulary file ``fvocab``,
    else None); ``binary=None`` tells the format from the first record."""
    check_read_args(path, binary, limit, unicode_errors, encoding, no_header)
    counts = None if fvocab is None else read_counts(fvocab, encoding, unicode_errors)  # its errors before the big file
    if not os.path.isfile(path):
        raise FileNotFoundError(f"vectors file path={path!r} does not exist")
    with open(path, "rb") as f:
        if no_header:
            count, dim = _sizes_without_header(f, limit, path)
            binary = False
        else:
            count, dim = _read_header(f, path)
        if limit is not None:
            count = min(count, int(limit))
        if binary is None:
            binary = _looks_binary(f, dim)
        decode = _decoder(encoding, unicode_errors, path)
        words, vectors = (_read_binary if binary else _read_text)(f, count, dim, decode, path)
    words, vectors = _first_of_duplicates(words, vectors, path)
    return words, vectors, None if counts is None else counts_for(words, counts, path)


def _read_header(f, path):
    header = f.readline(_MAX_HEADER)
    try:
        count, dim = (int(x) for x in header.split())
        if count < 0 or dim < 1:
            raise ValueError
    except ValueError:
        raise ValueError(f"invalid word2vec header {header[:80]!r} in {path!r}; expected "
                         "'<number of words> <dimensions>' on the first line (no_header=True for "
                         "headerless text files such as GloVe's)") from None
    return count, dim


def _sizes_without_header(f, limit, path):
    """Count the lines and the numbers on the first one (gensim's extra pass for headerless files); rewinds."""
    first = f.readline()
    if not first:
        raise ValueError(f"{path}: empty file; expected one word and its numbers per line")
    count = 1 + sum(1 for _ in f)
    f.seek(0)
    return (count if limit is None else min(count, limit)), max(len(first.rstrip().split(b" ")) - 1, 1)


def _looks_binary(f, dim):
    """Whether the records are binary: in a text file every field after the word is a number.

    A line with fewer than ``dim`` numbers is text only if the next line is too (the
    float bytes of a binary record can read ``1\\n`` by chance, never two such lines).
    """
    start = f.tell()
    lines = [f.readline(_MAX_HEADER + 32 * dim) for _ in range(2)]
    f.seek(start)
    counts = [_numbers_after_word(line) for line in lines]
    if counts[0] is None:
        return bool(lines[0].strip())
    return counts[0] < dim and lines[1] != b"" and counts[1] is None


def _numbers_after_word(line):
    """How many numbers follow the word on ``line``, or None when a field is not a number (or none is there)."""
    fields = [x for x in line.rstrip().split(b" ")[1:] if x]
    try:
        [float(x) for x in fields]
    except ValueError:
        return None
    return len(fields) or None


def _decoder(encoding, errors, path):
    def decode(raw, where):
        try:
            return raw.decode(encoding, errors)
        except UnicodeDecodeError as err:
            shown = raw.lstrip(b"\n")[:60]
            raise ValueError(f"{path}: {where}: {shown!r} is not valid {encoding} ({err.reason} at byte "
                             f"{err.start}); pass unicode_errors='replace' or 'ignore' to load it anyway "
                             "(the C tool cuts long words inside a character)") from None
    return decode


def _read_text(f, count, dim, decode, path):
    words, vectors = [], np.empty((count, dim), np.float32)
    offset = 1 + (f.tell() > 0)  # line number of the first record
    for i in range(count):
        line = f.readline()
        lineno = i + offset
        if not line:
            raise ValueError(f"{path}: truncated file: the header says {count} words, the file has {i} vector lines")
        parts = decode(line.rstrip(), f"line {lineno}").split(" ")
        if len(parts) != dim + 1:
            hint = ""
            if len(parts) > dim + 1:
                hint = ("; a word containing a space cannot be stored in this format (a ' ' word comes from a "
                        "tool trained on characters, e.g. strings given where token lists are expected)")
            raise ValueError(f"{path}:{lineno}: expected a word and {dim} numbers, got {len(parts) - 1} fields "
                             f"in {line[:60]!r}{hint}")
        words.append(parts[0])
        try:
            vectors[i] = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            raise ValueError(f"{path}:{lineno}: invalid number in the vector of {parts[0]!r}") from None
    return words, vectors


def _read_binary(f, count, dim, decode, path):
    words, vectors = [], np.empty((count, dim), np.float32)
    width, buf, start, eof = 4 * dim, b"", 0, False
    for i in range(count):
        while True:
            space = buf.find(b" ", start)
            if space >= 0 and len(buf) - space - 1 >= width:
                break
            if eof:
                raise ValueError(f"{path}: truncated binary vectors file: the header says {count} words, "
                                 f"found {i}")
            chunk = f.read(_CHUNK)
            eof = not chunk
            buf, start = buf[start:] + chunk, 0
        words.append(decode(buf[start:space], f"word {i + 1}").lstrip("\n"))  # gensim strips after decoding
        vectors[i] = np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1)
        start = space + 1 + width
    return words, vectors


def _first_of_duplicates(words, vectors, path):
    """Keep the first row of a word seen twice, as gensim does (same bytes twice, or two spellings decoded alike)."""
    seen, keep = set(), []
    for i, w in enumerate(words):
        if w not in seen:
            seen.add(w)
            keep.append(i)
    if len(keep) == len(words):
        return words, vectors
    kept = set(keep)
    dropped = [w for i, w in enumerate(words) if i not in kept]
    warnings.warn(f"{path}: {len(dropped)} duplicate word(s) kept at their first row only, as gensim does: "
                  f"{dropped[:5]!r}", RuntimeWarning, stacklevel=4)
    return [words[i] for i in keep], np.ascontiguousarray(vectors[keep])


def check_writable_words(words):
    """Refuse words the format cannot carry: a space or a newline would split the record when read back."""
    bad = [w for w in words if " " in w or "\n" in w]
    if bad:
        raise ValueError(f"cannot save words containing a space or a newline in the word2vec format "
                         f"(readers split the record there): {bad[:5]!r}")
    for w in words:
        try:
            w.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"cannot save the word {w!r} in the word2vec format: it is not encodable "
                             "as UTF-8 (a lone surrogate)") from None


def write_word2vec(f, words, vectors, binary):
    """Write the header and the records to the open binary file ``f`` (float32, shortest exact text form)."""
    vectors = np.asarray(vectors, dtype="<f4")
    f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
    for word, vec in zip(words, vectors):
        if binary:  # the C tool's layout: word, space, raw floats, newline
            f.write(word.encode("utf-8") + b" " + vec.tobytes() + b"\n")
        else:
            f.write((word + " " + " ".join(str(x) for x in vec) + "\n").encode("utf-8"))


# -- vocabulary (counts) files ---------------------------------------------------------------------
def read_counts(path, encoding="utf-8", unicode_errors="strict") -> dict:
    """``{word: count}`` from a vocabulary file of ``word count`` lines (the C tool's ``-save-vocab``)."""
    check_path("fvocab", path, "load_word2vec_format", accepted="a path to a vocabulary file of 'word count' lines")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"vocabulary file fvocab={path!r} does not exist")
    decode, counts = _decoder(encoding, unicode_errors, path), {}
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            line = decode(raw, f"line {number}").rstrip("\r\n")
            if not line.strip():
                continue
            word, _, count = line.rpartition(" ")  # the last space: other whitespace stays in the word
            if not word or not count.isdigit():
                raise ValueError(f"{path}: line {number}: {raw[:60]!r} is not 'word count' (a word, a space, "
                                 "a non-negative integer); fvocab= takes the C tool's -save-vocab file")
            counts[word] = int(count)  # a word listed twice: its last count, as gensim
    return counts


def counts_for(words, counts: dict, path):
    """Each word's count from ``counts`` (``None`` where the file has none, and a warning counts those: what gensim
    4.4's loader sets and warns, before its attribute array refuses the ``None`` with a ``TypeError``)."""
    found = [counts.get(w) for w in words]
    missing = [w for w, n in zip(words, found) if n is None]
    if missing:
        warnings.warn(f"{path}: the vocabulary file is incomplete: {len(missing)} word(s) have no count "
                      f"(None): {missing[:5]!r}", RuntimeWarning, stacklevel=4)
    return found


def write_counts(f, words, counts):
    """``word count`` lines, in row order, to the open binary file ``f`` (words without a count are left out)."""
    for word, count in zip(words, counts):
        if count is not None:
            f.write(f"{word} {count}\n".encode())


# -- gensim ------------------------------------------------------------------------------------------
def _gensim_models():
    try:
        from gensim import models
    except ImportError as err:
        raise ImportError(f"converting to or from gensim needs gensim: {_GENSIM_HINT}") from err
    return models


def from_gensim(cls, kv):
    """A dlzoo ``cls`` (KeyedVectors or FastTextVectors) with the words, order and vectors of gensim's ``kv``."""
    from nlp.vectors import FastTextVectors

    kv = getattr(kv, "wv", kv)  # a gensim Word2Vec / FastText model: its vectors
    if not (hasattr(kv, "index_to_key") and hasattr(kv, "vectors")):
        fail("kv", kv, "a gensim KeyedVectors (or a gensim model with .wv)", f"{cls.__name__}.from_gensim",
             error=TypeError)
    words = list(kv.index_to_key)
    bad = next((w for w in words if not isinstance(w, str)), None)
    if bad is not None:
        raise TypeError(f"{cls.__name__}.from_gensim: key {bad!r} is not a word (a string); gensim's integer keys "
                        "(Doc2Vec document tags) have no dlzoo counterpart")
    vectors = np.array(kv.vectors[: len(words)], dtype=np.float32)
    counts = _gensim_counts(kv, len(words))
    ngrams = getattr(kv, "vectors_ngrams", None)
    if ngrams is not None and ngrams.size:
        return FastTextVectors(words, vectors, np.array(ngrams, np.float32), min_n=kv.min_n, max_n=kv.max_n,
                               counts=counts)
    if issubclass(cls, FastTextVectors):
        fail("kv", kv, "a gensim FastTextKeyedVectors with n-gram vectors", "FastTextVectors.from_gensim",
             error=TypeError)
    return cls(words, vectors, counts=counts)


def _gensim_counts(kv, n):
    """gensim's ``count`` attribute of the first ``n`` keys (a trained model's corpus counts), or None."""
    stored = getattr(kv, "expandos", {}).get("count")
    if stored is None or len(stored) < n:
        return None
    return [None if c is None else int(c) for c in stored[:n]]


def to_gensim(wv):
    """gensim's ``KeyedVectors`` (``FastTextKeyedVectors`` for n-gram vectors) with the same words and vectors."""
    from nlp.vectors import FastTextVectors

    models = _gensim_models()
    vectors = np.array(wv.vectors, dtype=np.float32)
    if isinstance(wv, FastTextVectors):
        out = models.fasttext.FastTextKeyedVectors(wv.vector_size, wv.min_n, wv.max_n, wv.bucket)
        out.vectors_ngrams = np.array(wv.ngram_vectors, dtype=np.float32)
    else:
        out = models.KeyedVectors(wv.vector_size)
    out.add_vectors(list(wv.words), vectors)
    if len(wv):  # the counts, or (unknown or incomplete) those gensim's loader makes up: row order kept
        known = wv.counts is not None and None not in wv.counts
        out.set_vecattr(wv.words[0], "count", len(wv))
        out.expandos["count"][:] = wv.counts if known else np.arange(len(wv), 0, -1)
    if isinstance(wv, FastTextVectors):
        out.recalc_char_ngram_buckets()
        # the word-only rows that gensim's adjust_vectors would average with the n-grams back into ``vectors``
        sums = np.array([out.vectors_ngrams[b].sum(axis=0) for b in out.buckets_word], np.float32).reshape(vectors.shape)
        sizes = np.array([len(b) for b in out.buckets_word], np.float32)[:, None]
        out.vectors_vocab = vectors * (sizes + 1) - sums
        out.vectors = vectors
    return out
