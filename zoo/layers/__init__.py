"""Layers Keras lacks. Each is serializable (registered for ``.keras`` loading)."""

from zoo.layers.convnext import LayerScale, layer_scale_class  # noqa: E402,F401
from zoo.layers.pooling import (  # noqa: E402,F401
    GlobalLpPooling1D,
    GlobalLpPooling2D,
    GlobalLpPooling3D,
    GlobalMinPooling1D,
    GlobalMinPooling2D,
    GlobalMinPooling3D,
    LpPooling1D,
    LpPooling2D,
    LpPooling3D,
    MinPooling1D,
    MinPooling2D,
    MinPooling3D,
)
from zoo.layers.sampling import Sampling  # noqa: E402,F401
from zoo.layers.transformer import (  # noqa: E402,F401
    CachedMultiHeadAttention,
    PaddingMask,
    PositionEmbedding,
    ReversibleEmbedding,
    SequencePooling,
    TransformerBlock,
)
