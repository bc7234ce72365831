"""Fitting a store's pending batches on Ray workers; the driver writes, in job order.

:func:`ray_fitter` returns a :data:`~inret_engine.build.Fitter` for
:func:`~inret_engine.build.build_store`: the driver reads each batch's ground truth from
the store, a worker fits it and returns the INR tensors and fit quality, and the driver
commits the batches in the order a local build would, so the catalog gets the same rows
(ids included). A worker that dies mid-task is replaced and its task run again (Ray
retries it); a driver that dies leaves a store that ``build-store`` completes, as today.

Byte-identical INRs need the same torch thread count on both sides: with more than one
thread a hash-grid fit is not even reproducible locally (its scatter-add backward sums in
a thread-dependent order), so workers fit with ``threads=1`` by default.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..build import BuildOptions, FitJob, FittedBatch, Fitter, fit_batch
from ..fit import FitProgress
from ..progress import run_to_end
from ..store import Store
from .cluster import connect, gpus_per_task

__all__ = ["fit_task", "ray_fitter"]


def fit_task(config, function, gts, keys, options: BuildOptions, threads: int) -> FittedBatch:
    """What a worker runs: one batch fitted to the end (CUDA when the worker has a GPU).

    ``threads`` sets torch's intra-op threads for the whole worker process, on purpose: a
    Ray worker process runs one task at a time, and this task is all it does.
    """
    import torch

    torch.set_num_threads(max(1, int(threads)))
    return run_to_end(fit_batch(config, function, gts, keys, options))


def ray_fitter(address: str | None = None, *, workers: int | None = None, threads: int = 1,
               in_flight: int | None = None, task: Any = None, max_retries: int = 3) -> Fitter:
    """A fitter that sends each batch to a Ray worker.

    Args:
        address: Cluster address; None starts a local cluster with ``workers`` slots.
        workers: Local cluster size (default: every core); ignored with an address.
        threads: Torch threads per task (1 keeps INRs byte-identical to a 1-thread local build).
        in_flight: Batches submitted ahead of the next one to commit (default 2 per worker
            slot): bounds the driver's memory for ground truth and results.
        task: The function a worker runs (default :func:`fit_task`; tests wrap it).
        max_retries: Times Ray runs a task again after its worker died.
    """

    def run(store: Store, jobs: list[FitJob], options: BuildOptions) -> Iterator[tuple[int, FitProgress | FittedBatch]]:
        if not jobs:
            return
        ray = connect(address, num_cpus=workers)
        gpus = gpus_per_task(ray)
        remote = ray.remote(task or fit_task).options(num_cpus=1, num_gpus=gpus, max_retries=max_retries)
        window = in_flight or 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        device = None if gpus else "cpu"  # a CPU task never grabs a GPU it was not given
        task_options = options if getattr(options, "device", None) is not None else _with_device(options, device)
        pending: dict[int, Any] = {}
        submitted = 0
        try:
            for j in range(len(jobs)):
                while submitted < len(jobs) and submitted - j < window:
                    config, function, shapes = jobs[submitted]
                    gts = [store.ground_truth(s.shape_id) for s in shapes]
                    pending[submitted] = remote.remote(config, function, gts, [s.shape_id for s in shapes],
                                                       task_options, threads)
                    submitted += 1
                yield j, ray.get(pending.pop(j))
        finally:
            for ref in pending.values():  # a stopped build leaves nothing running on the cluster
                ray.cancel(ref, force=True)

    return run


def _with_device(options: BuildOptions, device: str | None) -> BuildOptions:
    import dataclasses

    fields = {f.name for f in dataclasses.fields(options)}
    return dataclasses.replace(options, device=device) if "device" in fields else options
