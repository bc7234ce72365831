"""INR files and stores: the ``.inr`` format, the SQLite catalog, atomic writes."""

from .catalog import InrRecord, ShapeRecord
from .inr_file import InrFileError
from .shape_inr import ShapeINR, load_shape_inr, save_shape_inr, stack_fields
from .store import Store, StoreError

__all__ = ["InrFileError", "InrRecord", "ShapeINR", "ShapeRecord", "Store", "StoreError",
           "load_shape_inr", "save_shape_inr", "stack_fields"]
