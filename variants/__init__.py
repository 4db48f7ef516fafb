"""Attention variants: one module per variant, each registers itself on import.

Importing this package imports every module in it, so adding a variant is adding a file.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
