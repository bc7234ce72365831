"""INR files and stores: the ``.inr`` format, the SQLite catalog, atomic writes.

Names are imported on first use, so reading a catalog (``Store.open(...).records()``)
never loads torch; loading or writing an INR does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InrFileError, StoreError
from ..lazy import lazy_exports

_LAZY = {"InrRecord": "catalog", "ShapeRecord": "catalog", "Store": "store", "ShapeINR": "shape_inr",
         "load_shape_inr": "shape_inr", "save_shape_inr": "shape_inr", "stack_fields": "shape_inr"}

__all__ = ["InrFileError", "InrRecord", "ShapeINR", "ShapeRecord", "Store", "StoreError",
           "load_shape_inr", "save_shape_inr", "stack_fields"]

if TYPE_CHECKING:
    from .catalog import InrRecord, ShapeRecord
    from .shape_inr import ShapeINR, load_shape_inr, save_shape_inr, stack_fields
    from .store import Store


__getattr__ = lazy_exports(__name__, _LAZY)
