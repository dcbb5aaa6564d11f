"""Building models without initialising their variables, for tests that only count parameters."""

import contextlib

import keras


@contextlib.contextmanager
def shapes_only():
    """Build models without initialising their variables: counting 350M parameters then takes a second."""
    from keras.src.backend.common import global_state

    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:  # drop the uninitialised variables, so that no later scope initialises them
        global_state.set_global_attribute("uninitialized_variables", [])
