"""Neuron selectivity transfer (Huang & Wang, 2017)."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from ..validation import check_positive_int
from .base import PairLoss


class NSTDistillLoss(PairLoss):
    """Neuron-selectivity-transfer loss: MMD between channel patterns.

    ``loss = beta / 2 * mean_b MMD^2(S_b, T_b)``, polynomial kernel
    ``k(x, y) = (x . y + c)^degree``. Each channel is one sample: its
    selectivity pattern over the H*W locations of the common grid,
    L2-normalised. S_b = {s_bi}_{i<C_s}, T_b = {t_bj}_{j<C_t}:
    MMD^2 = mean_{i,i'} k(s_i, s_i') + mean_{j,j'} k(t_j, t_j')
    - 2 mean_{i,j} k(s_i, t_j). Both maps are first aligned to the coarser
    one's grid (:func:`~..alignment.align_maps`) and masked to each image's
    valid extent. No adapter; needs (B, C, H, W) maps. The defaults are the
    paper's polynomial-kernel setting.

    Args:
        student_channels (int): channels C_s of the student feature.
        target_channels (int): channels C_t of the target feature.
        degree (int): kernel degree, >= 1. Defaults to 2.
        c (float): kernel offset. Defaults to 0.0.
        beta (float): loss scale (the paper's lambda), > 0. Defaults to 50.0.
        **kwargs: options of :class:`~.base.PairLoss` (``loss_weight``,
            sampling, ``detach_target``, ...).
    """

    name = 'nst'
    needs_maps = True

    def __init__(self,
                 student_channels: int,
                 target_channels: int,
                 *,
                 degree: int = 2,
                 c: float = 0.0,
                 beta: float = 50.0,
                 **kwargs):
        super().__init__(student_channels, target_channels, **kwargs)
        self.degree, self.c = check_positive_int(degree, 'degree'), float(c)
        if not beta > 0:
            raise ValueError(f'beta must be > 0, got {beta}')
        self.beta = float(beta)

    def _kernel_mean(self, a: Tensor, b: Tensor) -> Tensor:
        return (a @ b.transpose(1, 2) + self.c).pow(
            self.degree).mean(dim=(1, 2))

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        """MMD^2 between the student's and the target's channel patterns.

        Args:
            z_s (Tensor): aligned, masked student map, shape (B, C_s, H, W).
            z_t (Tensor): aligned, masked target map, shape (B, C_t, H, W).

        Returns:
            dict[str, Tensor]: ``loss`` (unweighted scalar).
        """
        s, t = F.normalize(
            z_s.flatten(2), dim=2), F.normalize(
                z_t.flatten(2), dim=2)
        mmd = self._kernel_mean(s, s) + self._kernel_mean(
            t, t) - 2 * self._kernel_mean(s, t)
        return dict(loss=self.beta / 2 * mmd.mean())
