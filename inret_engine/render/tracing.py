"""Ray tracing of implicit surfaces, one tracer per implicit function.

* SDF: sphere tracing (Hart 1996): step by the signed distance.
* UDF: damped sphere tracing (NDF, Chibane et al. 2020): step by ``damping * udf``. An
  unsigned distance never changes sign, so a tracer that overshoots has nothing to tell
  it; with ``damping < 1`` and a 1-Lipschitz field the ray never crosses a surface, thin
  or not. Fitted UDFs rarely reach 0, so a local minimum below ``min_hit`` also counts.
* Occ: occupancy logits carry no distance, so the ray marches until the logit turns
  positive and bisects the crossing. Steps are ``max(skip(x), min_step)`` where
  ``skip`` is a lower bound on the distance to the surface (a baked field gets one from
  a distance transform of its inside/outside lattice, see :mod:`.bake`), so empty space
  costs a few steps and only the last voxel or so is marched finely. We chose this over
  marching cubes + ray/triangle tests: a 97^3 lattice gives ~10^5 triangles, which
  brute-force Moller-Trumbore cannot afford per frame on CPU without a BVH.

Every tracer checks the implicit function up front (the callable's ``function``
attribute, e.g. a :class:`~.bake.BakedField`'s, or the ``function`` argument) and fails
loudly on a mismatch. Rays are clipped to ``[-1, 1]^3`` unless ``t_near`` / ``t_far``
are given. Nothing here is differentiable: tracers run under ``torch.no_grad``.
Tensors stay on their device (CUDA when the rays are on CUDA).

Example:
    >>> o = torch.tensor([[0.0, 0.0, -3.0]]); d = torch.tensor([[0.0, 0.0, 1.0]])
    >>> hits = sphere_trace(lambda p: p.norm(dim=-1) - 0.5, o, d)
    >>> round(float(hits.t[0]), 3), bool(hits.hit_mask[0])
    (2.5, True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import nn

from ..functions import ImplicitFunction, require

PointFn = Callable[[torch.Tensor], torch.Tensor]
"""One INR as a function: ``(N, 3) -> (N,)``."""


@dataclasses.dataclass
class Hits:
    """Where rays met a surface.

    Attributes:
        t: ``(N,)`` distance along each ray; ``inf`` where it missed.
        points: ``(N, 3)`` hit points (``origin + t * dir``); meaningless where missed.
        hit_mask: ``(N,)`` bool.
        steps: ``(N,)`` int32 field evaluations spent on each ray.
    """

    t: torch.Tensor
    points: torch.Tensor
    hit_mask: torch.Tensor
    steps: torch.Tensor


def single(field: nn.Module | Callable, index: int = 0) -> PointFn:
    """Adapt a batched field ``(B, N, 3) -> (B, N)`` to one of its INRs ``(N, 3) -> (N,)``.

    Example:
        >>> fn = single(lambda x: x.norm(dim=-1))  # batch of one
        >>> fn(torch.ones(4, 3)).shape
        torch.Size([4])
    """
    batch = int(getattr(field, "batch", 1))
    if not 0 <= index < batch:
        raise IndexError(f"INR {index} of a batch of {batch}")

    def fn(points: torch.Tensor) -> torch.Tensor:
        return field(points.unsqueeze(0).expand(batch, -1, -1))[index]

    return fn


def point_fn(source: nn.Module | Callable) -> PointFn:
    """A batched :class:`~inret_engine.fields.Field` becomes ``single(field)``; callables pass through."""
    if isinstance(source, nn.Module) and hasattr(source, "batch"):
        return single(source)
    if not callable(source):
        raise TypeError(f"cannot evaluate a {type(source).__name__}")
    return source


def ray_box(origins: torch.Tensor, dirs: torch.Tensor, lo: float | torch.Tensor = -1.0,
            hi: float | torch.Tensor = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Slab test of rays against an axis-aligned box.

    Args:
        origins: ``(N, 3)``.
        dirs: ``(N, 3)`` (need not be unit; ``t`` is in units of ``|dir|``).
        lo, hi: box corners, scalars or ``(3,)``.

    Returns:
        ``t_near (N,)`` (clamped at 0) and ``t_far (N,)``; a ray misses where ``t_near > t_far``.

    Example:
        >>> ray_box(torch.tensor([[0., 0., -3.]]), torch.tensor([[0., 0., 1.]]))
        (tensor([2.]), tensor([4.]))
    """
    safe = torch.where(dirs.abs() < 1e-12, torch.full_like(dirs, 1e-12), dirs)
    inv = 1.0 / safe
    lo = torch.as_tensor(lo, dtype=origins.dtype, device=origins.device)
    hi = torch.as_tensor(hi, dtype=origins.dtype, device=origins.device)
    t0, t1 = (lo - origins) * inv, (hi - origins) * inv
    t_near = torch.minimum(t0, t1).amax(dim=-1).clamp_min(0.0)
    t_far = torch.maximum(t0, t1).amin(dim=-1)
    return t_near, t_far


def _interval(origins, dirs, t_near, t_far) -> tuple[torch.Tensor, torch.Tensor]:
    box_near, box_far = ray_box(origins, dirs)
    n = origins.shape[0]
    t_near = box_near if t_near is None else torch.as_tensor(t_near, device=origins.device).expand(n).float()
    t_far = box_far if t_far is None else torch.as_tensor(t_far, device=origins.device).expand(n).float()
    return t_near.clone(), t_far


def _check(fn: Callable, function: ImplicitFunction | None, allowed, what: str) -> None:
    declared = getattr(fn, "function", None)
    for f in (declared, function):
        if f is not None:
            require(ImplicitFunction.parse(f), allowed, what)


def _finish(origins, dirs, t, hit, steps) -> Hits:
    t = torch.where(hit, t, torch.full_like(t, float("inf")))
    points = origins + torch.where(hit, t, torch.zeros_like(t)).unsqueeze(-1) * dirs
    return Hits(t=t, points=points, hit_mask=hit, steps=steps)


def _march(fn: PointFn, origins, dirs, t, t_far, *, scale: float, eps: float, max_steps: int,
           min_hit: float | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Step ``t += scale * f`` on the still-active rays only; stop below ``eps``.

    With ``min_hit``, a ray that dipped below ``min_hit`` and has since risen a quarter of
    ``min_hit`` above its lowest value stops back at that lowest point (the surface of a
    UDF that never reaches 0; smaller wiggles of a fitted or baked field do not count).
    """
    n = origins.shape[0]
    hit = torch.zeros(n, dtype=torch.bool, device=origins.device)
    steps = torch.zeros(n, dtype=torch.int32, device=origins.device)
    low_v = torch.full((n,), float("inf"), device=origins.device)
    low_t = t.clone()
    active = torch.nonzero(t <= t_far).squeeze(1)
    for _ in range(max_steps):
        if active.numel() == 0:
            break
        ta = t[active]
        v = fn(origins[active] + ta.unsqueeze(-1) * dirs[active]).float()
        steps[active] += 1
        done = v < eps
        if min_hit is not None:
            lv = low_v[active]
            dip = (lv < min_hit) & (v > lv + 0.25 * min_hit) & ~done
            t[active[dip]] = low_t[active[dip]]
            done = done | dip
            lower = v < lv
            low_v[active[lower]], low_t[active[lower]] = v[lower], ta[lower]
        hit[active[done]] = True
        ta = ta + scale * v
        go = ~done
        t[active[go]] = ta[go]
        active = active[go & (ta <= t_far[active])]
    if min_hit is not None:  # rays that ran out of steps or space after a dip stop at it
        late = ~hit & (low_v < min_hit)
        t[late], hit[late] = low_t[late], True
    return t, hit, steps


@torch.no_grad()
def sphere_trace(sdf_fn: PointFn, origins: torch.Tensor, dirs: torch.Tensor, *, max_steps: int = 64,
                 eps: float = 1e-3, t_near=None, t_far=None, function: ImplicitFunction | None = None,
                 polish: int = 2) -> Hits:
    """Sphere-trace an SDF (negative inside) along unit rays.

    Args:
        sdf_fn: ``(N, 3) -> (N,)`` signed distance.
        origins: ``(N, 3)``.
        dirs: ``(N, 3)`` unit directions.
        max_steps: field evaluations per ray at most.
        eps: a ray stops where the value drops below ``eps`` (inside counts as a hit).
        t_near, t_far: ``(N,)`` or scalar search interval; default the ``[-1, 1]^3`` box.
        function: what ``sdf_fn`` encodes, if it does not say itself; must be SDF.
        polish: extra ``t += f`` corrections on hit rays (removes overshoot of a fitted SDF).

    Returns:
        :class:`Hits` (not differentiable).

    Example:
        >>> o, d = torch.tensor([[0.7, 0.0, -3.0]]), torch.tensor([[0.0, 0.0, 1.0]])
        >>> bool(sphere_trace(lambda p: p.norm(dim=-1) - 0.5, o, d).hit_mask[0])  # passes beside
        False
    """
    _check(sdf_fn, function, [ImplicitFunction.SDF], "sphere tracing")
    t, t_far = _interval(origins, dirs, t_near, t_far)
    t, hit, steps = _march(sdf_fn, origins, dirs, t, t_far, scale=1.0, eps=eps, max_steps=max_steps,
                           min_hit=None)
    idx = torch.nonzero(hit).squeeze(1)
    for _ in range(polish if idx.numel() else 0):
        t[idx] = t[idx] + sdf_fn(origins[idx] + t[idx].unsqueeze(-1) * dirs[idx]).float()
    return _finish(origins, dirs, t, hit, steps)


@torch.no_grad()
def damped_sphere_trace(udf_fn: PointFn, origins: torch.Tensor, dirs: torch.Tensor, *, damping: float = 0.6,
                        max_steps: int = 128, eps: float = 1e-3, min_hit: float | None = None, t_near=None,
                        t_far=None, function: ImplicitFunction | None = None) -> Hits:
    """Damped sphere tracing of an unsigned distance field.

    Each step moves ``damping * udf``; for a 1-Lipschitz field that is less than the
    distance to the nearest surface, so a ray stops at the first layer it meets and
    never tunnels through a thin sheet. The ray stops where ``udf < eps``, or (with
    ``min_hit``) at its lowest value once that was below ``min_hit`` and the field has
    risen again by a quarter of ``min_hit`` (a surface the UDF never brings to 0).

    Args:
        udf_fn: ``(N, 3) -> (N,)`` unsigned distance.
        origins: ``(N, 3)``.
        dirs: ``(N, 3)`` unit directions.
        damping: step fraction in ``(0, 1)``; 0.5-0.7 is typical.
        max_steps: field evaluations per ray at most.
        eps: stopping value.
        min_hit: accept a minimum below this value along the ray (``None``: off).
        t_near, t_far: search interval, default the ``[-1, 1]^3`` box.
        function: what ``udf_fn`` encodes, if it does not say itself; must be UDF.

    Returns:
        :class:`Hits` (not differentiable).

    Example:
        >>> plate = lambda p: p[:, 2].abs()  # the plane z = 0
        >>> o, d = torch.tensor([[0.0, 0.0, 0.9]]), torch.tensor([[0.0, 0.0, -1.0]])
        >>> float(damped_sphere_trace(plate, o, d).points[0, 2]) < 1e-3
        True
    """
    _check(udf_fn, function, [ImplicitFunction.UDF], "damped sphere tracing")
    if not 0.0 < damping < 1.0:
        raise ValueError(f"damping must lie in (0, 1), got {damping}")
    t, t_far = _interval(origins, dirs, t_near, t_far)
    t, hit, steps = _march(udf_fn, origins, dirs, t, t_far, scale=damping, eps=eps, max_steps=max_steps,
                           min_hit=min_hit)
    return _finish(origins, dirs, t, hit, steps)


@torch.no_grad()
def trace_occupancy(logit_fn: PointFn, origins: torch.Tensor, dirs: torch.Tensor, *,
                    skip_fn: PointFn | None = None, min_step: float | None = None, max_steps: int = 256,
                    refine_steps: int = 8, t_near=None, t_far=None,
                    function: ImplicitFunction | None = None) -> Hits:
    """March rays through occupancy logits (inside > 0) and bisect the first crossing.

    Args:
        logit_fn: ``(N, 3) -> (N,)`` occupancy logits.
        origins: ``(N, 3)``.
        dirs: ``(N, 3)`` unit directions.
        skip_fn: ``(N, 3) -> (N,)`` lower bound on the distance to the surface; defaults to
            ``logit_fn.skip_distance`` (a baked field has one), else fixed steps.
        min_step: smallest step; features thinner than this can be missed. Default half a
            voxel of ``logit_fn.voxel`` (or of a 96-cell lattice).
        max_steps: marching samples per ray at most.
        refine_steps: bisection steps on the crossing interval.
        t_near, t_far: search interval, default the ``[-1, 1]^3`` box.
        function: what ``logit_fn`` encodes, if it does not say itself; must be OCC.

    Returns:
        :class:`Hits`; a ray starting inside hits at ``t_near`` (not differentiable).

    Example:
        >>> ball = lambda p: 10.0 * (0.5 - p.norm(dim=-1))
        >>> o, d = torch.tensor([[0.0, 0.0, -3.0]]), torch.tensor([[0.0, 0.0, 1.0]])
        >>> round(float(trace_occupancy(ball, o, d).t[0]), 3)
        2.5
    """
    _check(logit_fn, function, [ImplicitFunction.OCC], "occupancy ray marching")
    skip_fn = skip_fn if skip_fn is not None else getattr(logit_fn, "skip_distance", None)
    step_min = min_step if min_step is not None else 0.5 * float(getattr(logit_fn, "voxel", 2.0 / 96))
    t, t_far = _interval(origins, dirs, t_near, t_far)
    n = origins.shape[0]
    hit = torch.zeros(n, dtype=torch.bool, device=origins.device)
    steps = torch.zeros(n, dtype=torch.int32, device=origins.device)
    outside_t = t.clone()
    active = torch.nonzero(t <= t_far).squeeze(1)
    for _ in range(max_steps):
        if active.numel() == 0:
            break
        ta, fa = t[active], t_far[active]
        p = origins[active] + ta.unsqueeze(-1) * dirs[active]
        inside = logit_fn(p) > 0
        steps[active] += 1
        hit[active[inside]] = True
        out = ~inside
        step = torch.full_like(ta, step_min) if skip_fn is None else skip_fn(p).float().clamp_min(step_min)
        outside_t[active[out]] = ta[out]
        t[active[out]] = torch.minimum(ta + step, fa)[out]
        active = active[out & (ta < fa)]
    idx = torch.nonzero(hit).squeeze(1)
    if idx.numel():
        t[idx] = _bisect(logit_fn, origins[idx], dirs[idx], outside_t[idx], t[idx], refine_steps)
    return _finish(origins, dirs, t, hit, steps)


def _bisect(logit_fn: PointFn, o: torch.Tensor, d: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
            steps: int) -> torch.Tensor:
    """Midpoints of ``[a, b]`` after ``steps`` halvings keeping ``a`` outside and ``b`` inside."""
    for _ in range(steps):
        m = 0.5 * (a + b)
        inside = logit_fn(o + m.unsqueeze(-1) * d) > 0
        a, b = torch.where(inside, a, m), torch.where(inside, m, b)
    return 0.5 * (a + b)


def trace_surface(fn: PointFn, function: ImplicitFunction, origins: torch.Tensor, dirs: torch.Tensor, *,
                  voxel: float = 2.0 / 96, t_near=None, t_far=None, skip_fn: PointFn | None = None) -> Hits:
    """The tracer that suits ``function``, tuned for a field resolved to about ``voxel``.

    SDF: :func:`sphere_trace`; UDF: :func:`damped_sphere_trace` stopping within a third of
    a voxel, or at a dip below 0.75 voxel (a baked or fitted UDF rarely reaches 0); Occ:
    :func:`trace_occupancy` with half-voxel steps near the surface.

    Args:
        fn: ``(N, 3) -> (N,)`` values of ``function``.
        function: the implicit function ``fn`` encodes.
        origins, dirs: ``(N, 3)`` rays (unit ``dirs``).
        voxel: grid spacing the field resolves (a baked field's ``voxel``).
        t_near, t_far: search interval, default the ``[-1, 1]^3`` box.
        skip_fn: distance lower bound for occupancy marching.

    Returns:
        :class:`Hits`.
    """
    function = ImplicitFunction.parse(function)
    if function is ImplicitFunction.SDF:
        return sphere_trace(fn, origins, dirs, max_steps=96, eps=1e-3, t_near=t_near, t_far=t_far,
                            function=function)
    if function is ImplicitFunction.UDF:
        return damped_sphere_trace(fn, origins, dirs, max_steps=160, eps=max(1e-3, voxel / 3),
                                   min_hit=0.75 * voxel, t_near=t_near, t_far=t_far, function=function)
    return trace_occupancy(fn, origins, dirs, skip_fn=skip_fn, min_step=0.5 * voxel, t_near=t_near,
                           t_far=t_far, function=function)
