"""Receptive fields of convolutional stacks: ``zoo.receptive_field(model)``.

For each layer with a spatial output the receptive field is the extent of input
(per spatial axis) one output position can see, and the jump is the distance in
input pixels between neighbouring outputs (the product of strides). Along a
path (Araujo et al. 2019, "Computing receptive fields of CNNs"):

- convolution or pooling with kernel ``k``, stride ``s``, dilation ``d``:
  ``r += (d*(k-1)) * j`` and ``j *= s``;
- transposed convolution: each output sees ``ceil((d*(k-1)+1)/s)`` inputs, so
  ``r += (ceil((d*(k-1)+1)/s) - 1) * j`` and ``j /= s``;
- upsampling by ``s``: ``j /= s``; elementwise layers change nothing;
- merges (add, concatenate) take the largest field of their inputs;
- global pooling, flatten and dense layers see the whole input: the report
  stops at the last layer with a spatial output.

Works on Sequential and functional models, residual and multi-branch graphs,
and nested models (a sub-model composes like one layer).
"""

from __future__ import annotations

import dataclasses
import math

import keras

__all__ = ["ReceptiveField", "receptive_field"]


@dataclasses.dataclass
class ReceptiveField:
    """Receptive field (``size``) and jump (``stride``) per spatial axis, at the output and per layer."""

    size: tuple
    stride: tuple
    layer: str
    layers: list  # (layer name, size, stride) for every layer with a spatial output, in order

    def __str__(self):
        rows = [("layer", "receptive field", "jump")]
        rows += [(n, "x".join(_num(v) for v in s), "x".join(_num(v) for v in j)) for n, s, j in self.layers]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def _num(v):
    return str(int(v)) if float(v).is_integer() else f"{v:.3g}"


def _tuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _kind(layer):
    name = type(layer).__name__
    if isinstance(layer, keras.Model):
        return "model"
    if "Transpose" in name and hasattr(layer, "kernel_size"):
        return "transpose"
    if hasattr(layer, "kernel_size") and hasattr(layer, "strides"):
        return "conv"
    if hasattr(layer, "pool_size") and hasattr(layer, "strides") and not name.startswith("Global"):
        return "pool"
    if name.startswith("UpSampling"):
        return "upsample"
    if name.startswith("Global") or name in ("Flatten", "Dense", "EinsumDense"):
        return "global"
    return "same"


def _apply(layer, field, rank):
    """The (size, jump) after ``layer`` from the (size, jump) before it."""
    size, jump = field
    kind = _kind(layer)
    if kind == "model":
        sub = receptive_field(layer, _return_field=True)
        if sub is None:
            return None
        s_size, s_jump = sub
        return (tuple(r + (sr - 1) * j for r, sr, j in zip(size, s_size, jump)),
                tuple(j * sj for j, sj in zip(jump, s_jump)))
    if kind == "global":
        return None
    if kind in ("conv", "transpose", "pool"):
        k = _tuple(layer.kernel_size if kind != "pool" else layer.pool_size, rank)
        s = _tuple(layer.strides or k, rank)
        d = _tuple(getattr(layer, "dilation_rate", 1), rank)
        span = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
        if kind == "transpose":
            size = tuple(r + (math.ceil(sp / ss) - 1) * j for r, sp, ss, j in zip(size, span, s, jump))
            return size, tuple(j / ss for j, ss in zip(jump, s))
        size = tuple(r + (sp - 1) * j for r, sp, j in zip(size, span, jump))
        return size, tuple(j * ss for j, ss in zip(jump, s))
    if kind == "upsample":
        return size, tuple(j / ss for j, ss in zip(jump, _tuple(layer.size, rank)))
    return size, jump


def _spatial_rank(shape):
    return len(shape) - 2


def receptive_field(model, _return_field=False) -> ReceptiveField:
    """The receptive field of ``model``'s last spatial layer (and of every layer) in input pixels.

    A 1D input of shape ``(steps,)`` reshaped to ``(steps, 1)`` counts as a sequence.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"invalid model={model!r}; expected a keras.Model (Sequential or functional)")
    from keras.src.models.functional import Functional

    if isinstance(model, keras.Sequential):
        model = getattr(model, "_functional", None) or model
    if not isinstance(model, Functional):
        raise ValueError(
            f"invalid model={model.name!r}: a subclassed (or unbuilt Sequential) model has no layer graph to "
            "walk; pass a functional model or a Sequential that starts with keras.Input"
        )
    fields = {}
    for t in model.inputs:
        n = _spatial_rank(t.shape)
        n = max(n, 1)  # a (batch, steps) input is a sequence of scalars
        fields[id(t)] = ((1,) * n, (1,) * n)
    report, last = [], None
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        for node in layer._inbound_nodes:
            ins = [t for t in node.input_tensors if id(t) in fields]
            if not ins or any(fields[id(t)] is None for t in ins):
                outs = node.output_tensors
                for t in outs:
                    fields[id(t)] = None
                continue
            size = tuple(max(vals) for vals in zip(*[fields[id(t)][0] for t in ins]))
            jump = tuple(max(vals) for vals in zip(*[fields[id(t)][1] for t in ins]))
            rank = len(size)
            out = _apply(layer, (size, jump), rank)
            for t in node.output_tensors:
                if out is not None and _spatial_rank(t.shape) < 1:
                    out = None
                fields[id(t)] = out
            if out is not None:
                report.append((layer.name, out[0], out[1]))
                last = (layer.name, out)
    if last is None:
        if _return_field:
            return None
        raise ValueError(f"model {model.name!r} has no spatial layer (convolution or pooling) to report on")
    if _return_field:
        return last[1]
    return ReceptiveField(size=last[1][0], stride=last[1][1], layer=last[0], layers=report)
