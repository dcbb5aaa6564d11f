"""Layers Keras lacks. Each is serializable (registered for ``.keras`` loading)."""
