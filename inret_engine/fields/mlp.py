"""MLP-only INRs: SIREN (sine activations), the architecture inr2vec encodes."""

from __future__ import annotations

import dataclasses

from .base import FieldConfig


@dataclasses.dataclass(frozen=True)
class MLPConfig(FieldConfig):
    """A SIREN mapping xyz to one value; the CPU default is smaller than the paper's."""

    kind = "mlp"
    LIMITS = {"hidden_dim": (1, 2048), "hidden_layers": (0, 16), "omega0": (1e-3, 1e3)}

    hidden_dim: int = 128
    hidden_layers: int = 4
    omega0: float = 30.0

    @classmethod
    def paper(cls) -> "MLPConfig":
        """The paper's MLP-only INR (inr2vec): 4 hidden layers of 512."""
        return cls(hidden_dim=512, hidden_layers=4)

    def mlp_dims(self) -> list[int]:
        return [3] + [self.hidden_dim] * self.hidden_layers + [1]
