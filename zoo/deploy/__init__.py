"""Deployment: export, quantization, runtimes, streaming inference and serving.

- :mod:`~zoo.deploy.export` (``zoo.export``): ``.keras``, SavedModel and LiteRT files;
- :mod:`~zoo.deploy.quantize` (``zoo.quantize``): post-training quantization, QAT twins, pruning;
- :mod:`~zoo.deploy.runtimes`: run an exported file (LiteRT, SavedModel, Keras) the same way;
- :mod:`~zoo.deploy.streaming`: batch prediction with progress, stateful streaming;
- :mod:`~zoo.deploy.inference` (``zoo.inference``): the two above in one namespace;
- :mod:`~zoo.deploy.serve` (``zoo.serve``): an HTTP server for a model file.
"""
