"""Retrieval baselines that convert INRs to explicit inputs first (INRet section 4, App. 7.4).

``pointcloud``: 2,048 sphere-traced surface points, a small PointNet++ encoder
(:mod:`.pointcloud`). ``multiview``: 12 rendered views, an MVCNN-style encoder
(:mod:`.multiview`). Both are trained with category labels; the embedding is the
feature entering the classifier, L2-normalised. :func:`run_baseline` does the whole run.
"""

from .run import BASELINES, BaselineRun, run_baseline
from .training import PRESETS, Preset

__all__ = ["BASELINES", "PRESETS", "BaselineRun", "Preset", "run_baseline"]
