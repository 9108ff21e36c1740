"""Contrastive representation distillation (CRD-style, Tian et al. 2020),
without a memory bank."""
from typing import Dict

from torch import Tensor

from ..mutual_information import InfoNCEEstimator
from .base import CriticPairLoss


class CRDDistillLoss(CriticPairLoss):
    """``loss = -I_NCE(critic(adapt_s(s), adapt_t(t)))``: InfoNCE over the N
    in-batch samples with the separable critic (cosine / tau) -- MUSE's MI term
    alone, with no self-information. CRD proper draws 16k negatives from a
    memory bank; here the negatives are the other sampled locations/images of
    the batch, as in MUSE, so the two differ only in the objective.
    ``symmetric=True`` averages both contrast directions. The default critic is
    the paper's: 128-d embeddings, L2-normalised, temperature 0.07.
    """

    name = 'crd'

    def __init__(self,
                 student_channels: int,
                 target_channels: int,
                 *,
                 symmetric: bool = False,
                 critic=dict(type='separable', tau=0.07),
                 **kwargs):
        super().__init__(
            student_channels, target_channels, critic=critic, **kwargs)
        self.mi = InfoNCEEstimator(symmetric=symmetric)

    def discrepancy(self, z_s: Tensor, z_t: Tensor) -> Dict[str, Tensor]:
        return dict(loss=-self.mi(*self.scores(z_s, z_t)))
