"""Attention transfer (Zagoruyko & Komodakis, ICLR 2017)."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from .base import PairLoss


def attention_map(x: Tensor, p: float) -> Tensor:
    """[B, C, H, W] -> [B, H*W]: mean_c |x_c|^p, L2-normalised per image."""
    return F.normalize(x.abs().pow(p).mean(dim=1).flatten(1), dim=1)


class ATDistillLoss(PairLoss):
    """``loss = mean_{b, l} (Q_s[b, l] - Q_t[b, l])^2``, Q = ``attention_map(F, p)``.

    Spatial attention maps (channel mean of |F|^p, p=2, L2-normalised over the H*W locations) of
    both features on a common grid (:func:`~..sampling.align_maps`; channel counts may differ).
    No adapter: the maps are parameter-free. Needs [B, C, H, W] maps.
    """

    name = 'at'
    needs_maps = True

    def __init__(self, student_channels: int, target_channels: int, *, p: float = 2.0, **kwargs):
        super().__init__(student_channels, target_channels, **kwargs)
        if not p > 0:
            raise ValueError(f'p must be > 0, got {p}')
        self.p = float(p)

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        return dict(loss=(attention_map(z_s, self.p) - attention_map(z_t, self.p)).pow(2).mean())
