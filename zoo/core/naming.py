"""Layer names that several parts of dlzoo agree on.

The classification head is one Dense layer named :data:`HEAD` in every image
model; weights files saved with another class count load all but it.

Every layer of a backbone block is named ``<block>_<layer>``, where ``<block>``
matches :data:`BLOCK_RE` (``conv3_block2``, ``block5``, ``mixed7``,
``inception4e``). Layers before the first block are the stem (``stem_*``,
``conv1_*``, ``pool1_*``), layers after the last block are the top (``top_*``,
``avg_pool``, ``fc1``, ``predictions``). Transfer learning freezes and
unfreezes by block.
"""

from __future__ import annotations

import re

__all__ = ["HEAD", "HEAD_LAYER_NAMES", "BLOCK_RE", "block_regex", "block_names", "block_layers"]

#: Name of the classification layer of every image model.
HEAD = "predictions"

#: Layers that make up a classification head (skipped when a head is swapped).
HEAD_LAYER_NAMES = (HEAD,)

#: A backbone block's name prefix, followed by "_" and the layer's own name.
BLOCK_RE = re.compile(r"^(conv\d+_block\d+|block\d+|mixed\d+|inception\d[a-z])_")


def block_regex(block_pattern=None) -> re.Pattern:
    """:data:`BLOCK_RE`, or ``block_pattern`` (a regex string or compiled) checked to have a group."""
    if block_pattern is None:
        return BLOCK_RE
    try:
        pattern = re.compile(block_pattern)
    except (re.error, TypeError) as err:
        raise ValueError(f"invalid block_pattern={block_pattern!r}; expected a regex with one group: {err}") from err
    if pattern.groups < 1:
        raise ValueError(f"invalid block_pattern={block_pattern!r}; expected a regex whose first group names the block")
    return pattern


def block_names(model, block_pattern=None) -> list[str]:
    """Backbone block prefixes of ``model`` in order from input to output.

    ``block_pattern`` (see :func:`block_regex`) replaces :data:`BLOCK_RE`; its
    first group is the block name.
    """
    pattern = block_regex(block_pattern)
    seen: dict[str, None] = {}
    for layer in model.layers:
        match = pattern.match(layer.name)
        if match:
            seen.setdefault(match.group(1), None)
    return list(seen)


def block_layers(model, block: str, block_pattern=None) -> list:
    """Layers of ``model`` that belong to block ``block`` (a name from :func:`block_names`)."""
    blocks = block_names(model, block_pattern)
    if block not in blocks:
        raise ValueError(f"invalid block={block!r} for model {model.name!r}; expected one of {blocks}")
    return [layer for layer in model.layers if layer.name.startswith(block + "_")]
