"""Model families. Importing this package registers every model (one file per family)."""

import importlib
import pkgutil

# Every module in this package is a family file; importing it runs its @register lines.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
