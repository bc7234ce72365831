"""Where torch work runs: one place that picks CUDA when present and CPU otherwise.

Every torch job (fitting, training, embedding, baselines) takes ``device=None`` to mean
:func:`default_device`; the CLI's ``--device`` goes through :func:`resolve_device`, so a
machine without CUDA refuses ``--device cuda`` with a message rather than a traceback.

Example:
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device(None) == default_device()
    True
"""

from __future__ import annotations

import torch
from torch import nn

from .errors import UsageError

__all__ = ["default_device", "device_of", "resolve_device"]


def default_device() -> torch.device:
    """CUDA when a GPU is present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(name: str | torch.device | None) -> torch.device:
    """``None`` or ``"auto"`` -> :func:`default_device`; otherwise the named device, checked.

    Raises:
        UsageError: An unknown device name, or CUDA asked for where there is none.
    """
    if name is None or name == "auto":
        return default_device()
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise UsageError(f"unknown device {name!r} (use auto, cpu, cuda or cuda:N): {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {name!r} asked for, but this machine has no CUDA GPU; use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UsageError(f"device {name!r} asked for, but this machine has {torch.cuda.device_count()} GPU(s)")
    return device


def device_of(module: nn.Module) -> torch.device:
    """Where a module's parameters (else its buffers) live; the CPU for one that has none."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")
