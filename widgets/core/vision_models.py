"""torchvision models named now, built (and torchvision imported, ~0.5 s and tens of MiB) only
when a model is needed."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

__all__ = ["TorchvisionModel"]


@dataclass(frozen=True)
class TorchvisionModel:
    """A builder: calling it returns `torchvision.models.get_model(name, weights=None)` (random
    weights, nothing downloaded), with `num_classes` outputs if given. Hashable, so caches such
    as meta_profile's can key on it."""

    name: str
    num_classes: int | None = None

    def __call__(self) -> nn.Module:
        import torchvision  # here: importing widgets must not import torchvision

        extra = {} if self.num_classes is None else {"num_classes": self.num_classes}
        return torchvision.models.get_model(self.name, weights=None, **extra)
