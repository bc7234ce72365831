"""Ground-truth sampling in a helper process, for callers that share the interpreter with a GUI.

libigl's winding numbers and distance queries hold Python's GIL for their whole run: on
a 10k-face mesh, 1.2-1.8 s during which no other thread of the process runs (measured:
the browser's window froze for 1.9 s while a dropped mesh was prepared). In a
:class:`~inret_engine.helper_process.HelperProcess` they hold only the helper's GIL.

Example:
    >>> import trimesh
    >>> from inret_engine.data.loading import normalize
    >>> from inret_engine.data.geometry import Normalization, ShapeGeometry
    >>> box = trimesh.creation.box()
    >>> geom = normalize(ShapeGeometry(box.vertices, box.faces, Normalization.identity()))
    >>> gt = sample_in_child(geom, n_uniform=100, n_surface=100, n_near=100, n_eval_surface=50)  # doctest: +SKIP
"""

from __future__ import annotations

from ..helper_process import HelperProcess
from .geometry import ShapeGeometry
from .sampling import GroundTruth, sample_ground_truth

__all__ = ["SAMPLER", "sample_in_child"]

SAMPLER = HelperProcess()
"""The sampling helper: its own process, so a drop's sampling never waits behind a build's fit."""


def sample_in_child(geom: ShapeGeometry, **kwargs) -> GroundTruth:
    """:func:`~inret_engine.data.sampling.sample_ground_truth` run in the helper process.

    Same arguments and result; errors raised there are raised here. A helper process that
    died (killed, out of memory) is replaced, and the call is made once more.
    """
    return SAMPLER.call(sample_ground_truth, geom, **kwargs)
