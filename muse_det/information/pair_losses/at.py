"""Attention transfer (Zagoruyko & Komodakis, ICLR 2017)."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from .base import PairLoss


def attention_map(x: Tensor, p: float) -> Tensor:
    """Spatial attention map ``mean_c |x_c|^p`` (not normalised).

    Args:
        x (Tensor): feature map, shape (B, C, H, W).
        p (float): exponent, > 0.

    Returns:
        Tensor: attention map, shape (B, 1, H, W).
    """
    return x.abs().pow(p).mean(dim=1, keepdim=True)


class ATDistillLoss(PairLoss):
    """Attention-transfer loss on normalised spatial attention maps.

    ``loss = beta / 2 * mean_{b, l} (Q_s[b, l] - Q_t[b, l])^2``, Q = A /
    ||A||_2 over the locations l of each image. A = :func:`attention_map` of
    each feature at its *native* resolution, then aligned to the coarser
    one's grid (:func:`~..alignment.align_maps`: the finer attention map
    averaged over the window centred on each coarse pixel) and masked to
    each image's valid extent. No adapter: the maps are parameter-free and
    channel counts may differ. Needs (B, C, H, W) maps.

    Args:
        student_channels (int): channels C_s of the student feature.
        target_channels (int): channels C_t of the target feature.
        p (float): exponent of :func:`attention_map`, > 0. Defaults to 2.0.
        beta (float): loss scale, > 0; the paper's 1e3 (its loss is beta/2
            times the squared difference of the normalised maps, per pair).
            Defaults to 1e3.
        **kwargs: options of :class:`~.base.PairLoss` (``loss_weight``,
            sampling, ``detach_target``, ...).
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
        """Attention map of one feature at its native resolution.

        Args:
            x (Tensor): feature map, shape (B, C, H, W).

        Returns:
            Tensor: :func:`attention_map`, shape (B, 1, H, W).
        """
        return attention_map(x, self.p)

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        """AT loss between the aligned, masked attention maps.

        Args:
            z_s (Tensor): student attention map, shape (B, 1, H, W).
            z_t (Tensor): target attention map, shape (B, 1, H, W).

        Returns:
            dict[str, Tensor]: ``loss`` (unweighted scalar).
        """
        q_s, q_t = F.normalize(
            z_s.flatten(1), dim=1), F.normalize(
                z_t.flatten(1), dim=1)
        return dict(loss=self.beta / 2 * (q_s - q_t).pow(2).mean())
