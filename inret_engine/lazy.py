"""Names a package exports but imports only on first use (so light modules stay light).

>>> import sys, types
>>> pkg = types.ModuleType("pkg_demo"); sys.modules["pkg_demo"] = pkg
>>> pkg.__getattr__ = lazy_exports("pkg_demo", {"dumps": "json"}, absolute=True)
>>> pkg.dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str], *, absolute: bool = False) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``name`` comes from submodule ``names[name]``.

    The value is stored on the package once imported, so later lookups are plain attribute
    reads. ``absolute``: ``names`` holds module paths, not submodules of ``package``.
    """
    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(names[name]) if absolute else importlib.import_module(
            f".{names[name]}", package)
        value = getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value
    return __getattr__
