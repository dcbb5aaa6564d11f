"""Looking inside models and runs: diagnostics, receptive fields, visualisation.

- :mod:`~zoo.insight.diagnostics` (``zoo.diagnostics``): gradient check, learning-curve diagnosis, plots;
- :mod:`~zoo.insight.receptive_field` (``zoo.analysis``, ``zoo.receptive_field``);
- :mod:`~zoo.insight.visualize` (``zoo.visualize``): activation maximisation, filters, images.
"""
