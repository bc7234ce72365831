"""Connecting to Ray: an existing cluster by address, or a small local one started on the spot."""

from __future__ import annotations

import logging
import os
from typing import Any

from . import require

__all__ = ["LOCAL_OBJECT_STORE_BYTES", "connect", "gpus_per_task"]

logger = logging.getLogger(__name__)

LOCAL_OBJECT_STORE_BYTES = 1 << 30  # a local cluster's shared-memory object store (1 GiB)


def connect(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """The ``ray`` module, initialised: joined to the cluster at ``address`` (``"auto"``,
    ``"ray://host:10001"``, ``"host:6379"``), or a local cluster of ``num_cpus`` worker
    slots (default: every core of this machine) when ``address`` is None.

    A process already connected keeps its connection. Workers of an existing cluster need
    the project installed (``pip install inret-browser[scale]``); they import
    ``inret_engine`` to fit and embed.
    """
    require("ray")
    import ray

    if ray.is_initialized():
        return ray
    if address:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    else:
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                 object_store_memory=LOCAL_OBJECT_STORE_BYTES, logging_level=logging.WARNING)
    logger.info("ray cluster: %s", ray.cluster_resources())
    return ray


def gpus_per_task(ray: Any) -> float:
    """1 when the cluster has GPUs (each task then takes one and fits on CUDA), else 0."""
    return 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
