"""Attention transfer (Zagoruyko & Komodakis, ICLR 2017)."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from .base import PairLoss


def attention_map(x: Tensor, p: float) -> Tensor:
    """[B, C, H, W] -> [B, 1, H, W]: the spatial attention mean_c |x_c|^p
    (not normalised)."""
    return x.abs().pow(p).mean(dim=1, keepdim=True)


class ATDistillLoss(PairLoss):
    """``loss = beta / 2 * mean_{b, l} (Q_s[b, l] - Q_t[b, l])^2``, Q = A
    / ||A||_2 over locations.

    A = :func:`attention_map` (p = 2) of each feature at its *native*
    resolution, then aligned to the coarser one's grid
    (:func:`~..sampling.align_maps`: the finer attention map averaged over the
    window centred on each coarse pixel) and masked to each image's valid
    extent, then L2-normalised per image. beta = 1e3 as in the paper (its loss
    is beta/2 times the squared difference of the normalised maps, per pair).
    No adapter: the maps are parameter-free and channel counts may differ.
    Needs [B, C, H, W] maps.
    """

    name = 'at'
    needs_maps = True

    def __init__(self,
                 student_channels: int,
                 target_channels: int,
                 *,
                 p: float = 2.0,
                 beta: float = 1e3,
                 **kwargs):
        super().__init__(student_channels, target_channels, **kwargs)
        if not p > 0:
            raise ValueError(f'p must be > 0, got {p}')
        if not beta > 0:
            raise ValueError(f'beta must be > 0, got {beta}')
        self.p, self.beta = float(p), float(beta)

    def prepare(self, x: Tensor) -> Tensor:
        return attention_map(x, self.p)

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        q_s, q_t = F.normalize(
            z_s.flatten(1), dim=1), F.normalize(
                z_t.flatten(1), dim=1)
        return dict(loss=self.beta / 2 * (q_s - q_t).pow(2).mean())
