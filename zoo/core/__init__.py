"""What the rest of dlzoo builds on, importing nothing else of it (and no TensorFlow until used).

- :mod:`zoo.core.io`: atomic writes (a file, a JSON document, a folder);
- :mod:`zoo.core.checks`: argument validation with one error format;
- :mod:`zoo.core.naming`: the head layer's name and the backbone block naming;
- :mod:`zoo.core.plugins`: third-party families and agents from package entry points;
- :mod:`zoo.core.recipe`: a registered recipe (data) turned into an optimizer and a compiled model;
- :mod:`zoo.core.seeding`: ``seed_everything`` and ``fresh_state``, same seed, same figures;
- :mod:`zoo.core.quiet`: TensorFlow's logs off the console unless ``--verbose`` / ``DLZOO_VERBOSE=1``.
"""
