"""Retrieval: the retriever, its index and the index's persistence, evaluation, metrics, the map.

- :mod:`.retriever`: :class:`Retriever` embeds a store's INRs with one model and answers
  queries (a cached embedding matrix plus an index, rebuilt only for what changed).
- :mod:`.index`: :class:`EmbeddingIndex` (hnswlib with an exact fallback, saved beside the
  embeddings) and the :class:`IndexBackend` protocol other backends implement.
- :mod:`.metrics`: ranked-list metrics (mAP@k, precision / recall / F1 @k, per-class means).
- :mod:`.evaluation`: the paper's evaluation of a store's test split (per function, 3x3).
- :mod:`.map_layout`: 2D layouts of the embedding space (t-SNE, PCA, UMAP), cached, and saved views.

Names are imported on first use, so the light modules (index, metrics) do not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

_LAZY = {"Retriever": "retriever", "Hit": "retriever", "QueryResult": "retriever",
         "EmbeddingIndex": "index", "IndexBackend": "index", "IndexFilter": "index",
         "evaluate": "evaluation", "compute_map": "map_layout", "Projection": "map_layout"}

__all__ = ["EmbeddingIndex", "Hit", "IndexBackend", "IndexFilter", "Projection", "QueryResult",
           "Retriever", "compute_map", "evaluate"]

if TYPE_CHECKING:
    from .evaluation import evaluate
    from .index import EmbeddingIndex, IndexBackend, IndexFilter
    from .map_layout import Projection, compute_map
    from .retriever import Hit, QueryResult, Retriever


__getattr__ = lazy_exports(__name__, _LAZY)
