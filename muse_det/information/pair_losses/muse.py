"""MUSE pair loss: maximise I(s; t) and the student's self-information H(s)."""
from typing import Dict, Optional

import torch
from torch import Tensor

from ..checks import check_positive_int
from ..objective import MUSEObjective
from .base import CriticPairLoss


class MUSELoss(CriticPairLoss):
    """``loss = -loss_weight * J`` with J the :class:`~..objective.MUSEObjective` of the pair.

    Pipeline: sample N paired vectors -> adapters to z_s, z_t in R^embed_dim -> critic scores
    [N, N] -> I from ``mi_estimator``; H from ``entropy_estimator`` on z_s -> J (additive or
    multiplicative). Returns ``{'loss', 'mi', 'entropy'}`` (the last two detached, for logging).

    ``entropy_dim`` (d_H, default 32): H is measured on a *fixed* random orthonormal projection of
    z_s to d_H dimensions (a seeded buffer, identical across ranks and saved with checkpoints).
    Why: a log-det over d dimensions needs N >> d. Detection gives N = 2 images x 256 locations
    = 512 per GPU against embed_dim d = 128 (N/d = 4), classification batches N ~ d. Measured on
    already-decorrelated Gaussian batches (true gradient 0, so any gradient is noise; see
    GaussianEntropy): noise norm 1.9 at N/d = 1, 0.28 at N/d = 4, 0.06 at N/d = 16; condition
    number of the correlation matrix 8 at N/d = 4, 2.4 at N/d = 16. d_H = 32 turns the
    detection case into N/d_H = 16. A *learnable* projection would instead pick directions that
    are already decorrelated and teach the backbone nothing. None: use all embed_dim dimensions.
    Lambda (``entropy_weight``) defaults to 0.1: see :class:`~..objective.MUSEObjective`.
    Other options: see :class:`~.base.PairLoss` (sampling, weight, detach) and
    :class:`~.base.CriticPairLoss` (embed_dim, critic, adapters).
    """

    name = 'muse'

    def __init__(self, student_channels: int, target_channels: int, *, variant: str = 'additive',
                 mi_estimator='jsd', entropy_estimator=None,
                 entropy_weight: Optional[float] = None, entropy_dim: Optional[int] = 32,
                 **kwargs):
        super().__init__(student_channels, target_channels, **kwargs)
        self.objective = MUSEObjective(variant, mi_estimator, entropy_estimator, entropy_weight)
        if entropy_dim is not None and (check_positive_int(entropy_dim, 'entropy_dim')
                                        < self.embed_dim):
            gaussian = torch.randn(self.embed_dim, entropy_dim,
                                   generator=torch.Generator().manual_seed(0))
            self.register_buffer('entropy_projection', torch.linalg.qr(gaussian).Q)
        else:
            self.entropy_projection = None

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        scores = self.critic(z_s, z_t)
        z_h = z_s if self.entropy_projection is None else z_s @ self.entropy_projection.float()
        out = self.objective(scores, z_h)
        return dict(loss=-out['objective'], mi=out['mi'], entropy=out['entropy'])
