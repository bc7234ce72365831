"""What ``inret benchmark`` runs: the shapes, the INRs fitted and how long encoders train.

A preset is a frozen dataclass; ``quick`` fits in 45 minutes on 2 CPU cores by keeping
ten categories and by fitting all three implicit functions only for the architecture
of the cross-function tables (the hash grid, as in the paper's Tab. 3 and 4); the other
architectures get SDF INRs, the function of the paper's same-function table (Tab. 2).
``standard`` keeps the quick preset's INRs (the hash grid with all three functions,
octree / triplane / SIREN with SDF) on every category and every train and test shape;
``full`` fits every architecture with every function on every shape.
"""

from __future__ import annotations

import dataclasses

from ..encoders.training import TrainSettings
from ..errors import UsageError
from ..fields import FieldConfig, default_config
from ..functions import ImplicitFunction

QUICK_CATEGORIES = ("Bird", "Bottle", "Car", "Cup", "Helicopter", "Humanoid", "Jet", "NonWheelChair",
                    "RectangleTable", "Ship")
"""Ten categories of psb_shrec12 with at least 17 train and 7 test meshes, easy and hard ones."""


@dataclasses.dataclass(frozen=True)
class Preset:
    """One benchmark configuration.

    Attributes:
        name: preset name.
        categories: categories kept (``None``: every category of the dataset).
        train_per_category / test_per_category: shapes per category and split (``None``: all).
        grid_archs: grid architectures INRet is measured on.
        cross_arch: the architecture fitted with every function, for the 3x3 tables.
        same_function: the function of the same-function table (and of the MLP INRs).
        all_functions: fit every architecture with every function (``full``).
        align: PCA-align shapes before fitting (poses in psb_shrec12 mix y-up and z-up).
        fit_steps: fitting steps (``None``: each architecture's default).
        encoder: encoder training settings (unification switches are set per method).
        latency_queries: queries timed one at a time for ``query_ms``.
        configs: architecture configs (``None``: the defaults); tests use tiny ones.
        baselines: also run the point-cloud and multi-view baselines.
    """

    name: str
    categories: tuple[str, ...] | None
    train_per_category: int | None
    test_per_category: int | None
    grid_archs: tuple[str, ...] = ("hash", "octree", "triplane")
    cross_arch: str = "hash"
    same_function: ImplicitFunction = ImplicitFunction.SDF
    all_functions: bool = False
    align: bool = True
    fit_steps: int | None = None
    encoder: TrainSettings = TrainSettings()
    latency_queries: int = 20
    configs: tuple[FieldConfig, ...] | None = None
    baselines: bool = True

    def config(self, arch: str) -> FieldConfig:
        for config in self.configs or ():
            if config.kind == arch:
                return config
        return default_config(arch)

    def functions_for(self, arch: str) -> tuple[ImplicitFunction, ...]:
        """Implicit functions fitted for ``arch``."""
        if self.all_functions or arch == self.cross_arch:
            return tuple(ImplicitFunction)
        return (self.same_function,)


PRESETS = {
    "quick": Preset("quick", QUICK_CATEGORIES, train_per_category=10, test_per_category=5,
                    encoder=TrainSettings(steps=400)),
    "standard": Preset("standard", None, train_per_category=None, test_per_category=None,
                       encoder=TrainSettings(steps=600), latency_queries=50),
    "full": Preset("full", None, train_per_category=None, test_per_category=None, all_functions=True,
                   encoder=TrainSettings(steps=1500), latency_queries=50),
}


def get_preset(name: str, categories: tuple[str, ...] | None = None) -> Preset:
    """A named preset, optionally with its categories replaced."""
    if name not in PRESETS:
        raise UsageError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    preset = PRESETS[name]
    return dataclasses.replace(preset, categories=categories) if categories else preset
