"""The Unicode rules the word tokenizer uses, shared by its Python and TF-native paths.

Python's ``re`` (``\\w``, ``\\s``) and ``str.lower`` follow the Unicode version of
the running Python (14.0 for 3.11); TensorFlow's RE2 and ICU follow their own, and
RE2's ``\\w``/``\\s`` are ASCII only. So the TF-native tokenizer never uses those
classes: its patterns list the code points this Python's ``re`` calls word and
space characters (explicit ``[\\x{..}-\\x{..}]`` ranges), and lowercasing is a
table of this Python's per-character ``str.lower``. Both paths then give the
same tokens on any text, and an exported model carries the rules with it.
"""

from __future__ import annotations

import functools
import re

__all__ = ["word_ranges", "space_ranges", "lower_map", "re2_class"]

_MAX = 0x110000
_SURROGATES = (0xD800, 0xE000)


@functools.cache
def _all_chars() -> tuple[str, str]:
    """Every code point but the surrogates, as two strings (below and above them)."""
    return "".join(map(chr, range(_SURROGATES[0]))), "".join(map(chr, range(_SURROGATES[1], _MAX)))


def _ranges(pattern: str) -> tuple[tuple[int, int], ...]:
    """Code point ranges ``(first, last)`` whose characters match ``pattern`` (a one-character class)."""
    runs = re.compile(f"(?:{pattern})+")
    out = []
    for part in _all_chars():
        out += [(ord(m.group()[0]), ord(m.group()[-1])) for m in runs.finditer(part)]
    return tuple(out)


@functools.cache
def word_ranges() -> tuple[tuple[int, int], ...]:
    """Code points of Python's ``\\w`` (``str.isalnum()`` or ``_``)."""
    return _ranges(r"\w")


@functools.cache
def space_ranges() -> tuple[tuple[int, int], ...]:
    """Code points of Python's ``\\s`` (``str.isspace()``)."""
    return _ranges(r"\s")


@functools.cache
def lower_map() -> dict[int, str]:
    """``{code point: lowercase}`` for every character that ``str.lower`` changes, one character at a time.

    Per character means no context rule: a final capital sigma lowers to ``σ``
    (``"ΟΔΟΣ".lower()`` gives ``ς``), so ``text.translate(lower_map())`` is what
    both tokenizer paths compute.
    """
    out = {}
    for part in _all_chars():
        out.update((ord(c), low) for c, low in zip(part, map(str.lower, part)) if low != c)
    return out


def re2_class(*ranges, negate=False) -> str:
    """An RE2 character class (``[\\x{41}-\\x{5a}...]``) holding the given code point ranges."""
    body = "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for rs in ranges for a, b in rs)
    return f"[{'^' if negate else ''}{body}]"
