"""What ``python -m nlp`` needs around argparse: one-line errors, defaults in ``--help``, checked argument types,
corpus and vector-file loading, close matches for a word outside the vocabulary.

Every check here runs while the command line is parsed, so a bad argument exits with
status 2 and one line (``python -m nlp similar: error: argument FILE: ...``) before
any corpus is read or any model is trained.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys

__all__ = ["Parser", "Formatter", "integer", "number", "corpus", "existing_file", "out_path", "read_corpus",
           "load_vectors", "check_word", "one_line", "cli_names", "progress_to_stderr", "VECTOR_FORMATS"]

#: --out suffix of train-vectors -> (what it writes, whether it is dlzoo's own format).
VECTOR_FORMATS = {
    ".npz": "dlzoo's .npz: the whole model, reloads losslessly (Word2Vec.load / FastText.load / GloVe.load)",
    ".txt": "word2vec text format (gensim reads it); the word vectors reload exactly",
    ".vec": "word2vec text format (gensim reads it); the word vectors reload exactly",
    ".bin": "word2vec binary format (gensim reads it); the word vectors reload exactly",
}
_MODEL_TYPES = ("Word2Vec", "FastText", "GloVe")  # the "type" an .npz model file records


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2 (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


class Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """``(default: X)`` after each option's help, except where there is no default to show (None, False)."""

    def _get_help_string(self, action):
        if action.default in (None, False, argparse.SUPPRESS) or "%(default)" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def one_line(message) -> str:
    """A message on one line (what a shell user sees from an error)."""
    return " ".join(str(message).split())


def integer(minimum=None):
    """An argparse ``type`` for integers ``>= minimum``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or (minimum is not None and value < minimum):
            accepted = "an integer" + ("" if minimum is None else f" >= {minimum}")
            raise argparse.ArgumentTypeError(f"invalid value {text!r}; expected {accepted}")
        return value

    return parse


def number(low=None, low_open=False):
    """An argparse ``type`` for real numbers above ``low`` (strictly, with ``low_open``)."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = None
        bad = value is None or value != value or (low is not None and (value <= low if low_open else value < low))
        if bad:
            accepted = "a number" + ("" if low is None else f" {'>' if low_open else '>='} {low}")
            raise argparse.ArgumentTypeError(f"invalid value {text!r}; expected {accepted}")
        return value

    return parse


def corpus(text):
    """A built-in corpus name or the path of a text file."""
    from nlp import corpora

    if text in corpora.list_corpora() or os.path.isfile(text):
        return text
    what = "a folder" if os.path.isdir(text) else "neither a built-in corpus nor a file"
    raise argparse.ArgumentTypeError(f"{text!r} is {what}; expected one of {', '.join(corpora.list_corpora())} "
                                     "or a text file (one document per line)")


def existing_file(kind):
    """An argparse ``type`` for an existing file holding ``kind``."""

    def parse(text):
        if not os.path.isfile(text):
            raise argparse.ArgumentTypeError(f"no such file {text!r}; expected {kind}")
        return text

    return parse


def out_path(suffixes=None):
    """An argparse ``type`` for a file to write: its folder exists, its suffix is one of ``suffixes`` (if given)."""

    def parse(text):
        folder = os.path.dirname(os.path.abspath(text))
        if os.path.isdir(text):
            raise argparse.ArgumentTypeError(f"{text!r} is a folder; expected a file path")
        if not os.path.isdir(folder):
            raise argparse.ArgumentTypeError(f"the folder of {text!r} does not exist; create it first")
        if suffixes and os.path.splitext(text)[1].lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"invalid suffix of {text!r}; expected a path ending in "
                                             + ", ".join(suffixes))
        return text

    return parse


def read_corpus(name, unit):
    """The texts of a built-in corpus or of a text file (one document per line), split into ``unit``."""
    from nlp import corpora

    if name in corpora.list_corpora():
        return corpora.load(name, unit=unit)
    return corpora.split(corpora.read_text_file(name, unit="lines"), unit)


def load_vectors(path):
    """Word vectors from a model ``.npz`` (Word2Vec, FastText or GloVe ``save``) or a word2vec text/binary file."""
    import nlp

    if not path.lower().endswith(".npz"):
        return nlp.load_word2vec_format(path)
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            kind = json.loads(str(data["config"]))["type"]
    except (ValueError, KeyError, OSError, TypeError) as err:
        raise ValueError(f"could not read {path!r}: not a model saved by nlp.Word2Vec, FastText or GloVe ({err})") from None
    if kind not in _MODEL_TYPES:
        raise ValueError(f"{path!r} holds a {kind}; expected one of {', '.join(_MODEL_TYPES)}")
    return getattr(nlp, kind).load(path).wv


def check_word(wv, word, arg, path):
    """Raise a ValueError naming ``arg`` when ``word`` has no vector, with close matches from the vocabulary.

    Returns a note for a word outside the vocabulary that still has a vector
    (FastText builds one from its character n-grams), else None.
    """
    if wv.has_index_for(word):
        return None
    if word in wv:  # FastText: any word with character n-grams
        return f"{word!r} is not in the vocabulary; its vector is built from its character n-grams"
    close = [w for w in dict.fromkeys([word.lower(), word.capitalize()]) if w != word and w in wv.index]
    close += difflib.get_close_matches(word, wv.words[:20_000], n=3, cutoff=0.75)  # the frequent words: cheap
    close = list(dict.fromkeys(close))[:3]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"invalid {arg}={word!r}: not in the vocabulary of {len(wv):,} words of {path}{hint}")


def cli_names(message, options):
    """Python argument names in a library message (``min_count=50``) written as the options (``--min-count=50``)."""
    message = message.replace("hard_vocab_limit=False", "--soft-vocab-limit")
    if not options:
        return message
    names = "|".join(map(re.escape, options))
    identifiers = "|".join(re.escape(o) for o in options if "_" in o)  # plain words (window, seed) only before =
    pattern = re.compile(rf"(?<![\w.-])(?:({names})(?=[<>]?=)|({identifiers})\b)" if identifiers
                         else rf"(?<![\w.-])({names})(?=[<>]?=)")
    return pattern.sub(lambda m: "--" + (m.group(1) or m.group(2)).replace("_", "-"), message)


def progress_to_stderr():
    """Send what training prints (epoch lines, Keras progress bars) to stderr; stdout keeps the results."""
    import contextlib

    return contextlib.redirect_stdout(sys.stderr)
