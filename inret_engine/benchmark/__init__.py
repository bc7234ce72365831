"""``inret benchmark``: fit, train, embed and score every method of the paper in one run."""

from .presets import PRESETS, Preset, get_preset
from .runner import run_benchmark
from .scoring import Embedded, cross_function_table, score

__all__ = ["PRESETS", "Embedded", "Preset", "cross_function_table", "get_preset", "run_benchmark", "score"]
