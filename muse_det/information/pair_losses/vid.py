"""Variational information distillation (Ahn et al., CVPR 2019)."""
import math
from typing import Dict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import StudentAdaptedLoss


class VIDDistillLoss(StudentAdaptedLoss):
    """VID loss: Gaussian negative log-likelihood of the target.

    ``loss = mean_{i, c} 1/2 [log sigma_c^2 + (t_ic - mu(s)_ic)^2 /
    sigma_c^2]``: minus the log-likelihood (constant dropped) of the target
    under a Gaussian whose mean mu(s) is the student adapter's output and
    whose per-channel variance sigma_c^2 = softplus(alpha_c) + eps is learnt
    (heteroscedastic across channels); minimising it maximises a variational
    lower bound on I(t; s). t is the target standardised per channel over
    the N samples, never adapted; see :class:`~.base.StudentAdaptedLoss` for
    why.

    Args:
        student_channels (int): channels C_s of the student feature.
        target_channels (int): channels C_t of the target feature.
        init_var (float): initial sigma_c^2 (alpha starts at
            softplus^{-1}(init_var - eps)), > eps; 5 as in the paper's code.
            Defaults to 5.0.
        eps (float): variance floor. Defaults to 1e-5.
        **kwargs: options of :class:`~.base.StudentAdaptedLoss`
            (``adapter``, ``adapter_hidden``) and :class:`~.base.PairLoss`
            (``loss_weight``, sampling, ``detach_target``, ...).
    """

    name = 'vid'
    standardize_target = True

    def __init__(self,
                 student_channels: int,
                 target_channels: int,
                 *,
                 init_var: float = 5.0,
                 eps: float = 1e-5,
                 **kwargs):
        super().__init__(student_channels, target_channels, **kwargs)
        if not init_var > eps:
            raise ValueError(f'init_var must exceed eps={eps}, got {init_var}')
        self.eps = float(eps)
        alpha = math.log(math.expm1(init_var - eps))  # softplus^{-1}
        self.alpha = nn.Parameter(torch.full((target_channels, ), alpha))

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        """Gaussian negative log-likelihood (constant dropped).

        Args:
            z_s (Tensor): adapted student samples mu(s), shape (N, C_t).
            z_t (Tensor): standardised target samples, shape (N, C_t).

        Returns:
            dict[str, Tensor]: ``loss`` (unweighted scalar).
        """
        var = F.softplus(self.alpha.float()) + self.eps
        return dict(loss=0.5 * (var.log() + (z_t - z_s).pow(2) / var).mean())
