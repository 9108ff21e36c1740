"""Donsker-Varadhan MI estimator (MINE, Belghazi et al. 2018)."""
import math
from typing import Optional

import torch
from torch import Tensor

from .base import MIEstimator, negative_log_mean_exp, positives


class DVEstimator(MIEstimator):
    """Donsker-Varadhan (MINE) estimate of I(s; t).

    ``I_DV = E_P[T] - log E_Q[exp T]``, the second term by log-sum-exp. A
    tight lower bound on I(s; t) (no log N cap) but high-variance, and its
    minibatch gradient is biased because E_Q[exp T] sits in a denominator:
    grad log E_Q[e^T] = E_Q[e^T grad T] / E_Q[e^T]. ``chance_level = 0``.
    With the rows of a global matrix split over ranks, each rank's log E_Q
    covers its rows against every target: the ranks' mean is not the global
    estimate (a log of a mean is not a mean of logs), unlike JSD/InfoNCE.

    Args:
        ema_momentum (float, optional): in (0, 1) (MINE uses 0.99): MINE's
            bias correction, which replaces the denominator by an
            exponential moving average over batches (kept in log space,
            debiased like Adam's moments for its zero start, updated only in
            training mode with grad enabled). The returned *value* is the
            plain minibatch estimate either way; only the gradient changes.
            None: no correction. Defaults to None.
    """

    chance_level = 0.0

    def __init__(self, ema_momentum: Optional[float] = None):
        super().__init__()
        if ema_momentum is not None and not 0.0 < ema_momentum < 1.0:
            raise ValueError(
                'ema_momentum must be in (0, 1) (MINE uses 0.99) or None, '
                f'got {ema_momentum}')
        self.ema_momentum = ema_momentum
        if ema_momentum is not None:
            self.register_buffer('log_ema', torch.tensor(float('-inf')))
            self.register_buffer('num_updates',
                                 torch.tensor(0, dtype=torch.long))

    def estimate(self, scores: Tensor, offset: int = 0) -> Tensor:
        """DV estimate, with the EMA-corrected gradient if enabled.

        Args:
            scores (Tensor): critic scores, shape (N, M).
            offset (int): column offset of the positives. Defaults to 0.

        Returns:
            Tensor: I_DV in nats, scalar.
        """
        log_mean_exp = negative_log_mean_exp(scores, offset)
        positive = positives(scores, offset).mean()
        if self.ema_momentum is None:
            return positive - log_mean_exp
        log_denominator = self._update_ema(log_mean_exp.detach())
        # value: log_mean_exp; gradient: grad(mean_exp) / ema
        #   = exp(lme - log_ema) * grad(lme)
        ratio = torch.exp(log_mean_exp - log_denominator)
        return positive - (log_mean_exp.detach() + ratio - ratio.detach())

    def _update_ema(self, log_mean_exp: Tensor) -> Tensor:
        m = self.ema_momentum
        if self.training and torch.is_grad_enabled():
            # log-space EMA: exp(T) of large logits would overflow
            with torch.no_grad():
                self.log_ema.copy_(
                    torch.logaddexp(self.log_ema + math.log(m),
                                    log_mean_exp + math.log1p(-m)))
                self.num_updates += 1
        # Adam-style debiasing of an average started at 0: divide by 1 - m^t.
        # Tensor ops only (no .item()), so no device sync; before any update
        # (eval first) use the batch value.
        t = self.num_updates.to(log_mean_exp.dtype)
        debiased = self.log_ema - torch.log1p(-torch.pow(m, t).clamp(max=1 -
                                                                     1e-12))
        return torch.where(self.num_updates > 0, debiased, log_mean_exp)
