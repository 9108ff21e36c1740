"""Contrastive representation distillation (CRD-style, Tian et al. 2020),
without a memory bank."""
from typing import Dict

from torch import Tensor

from ..mutual_information import InfoNCEEstimator
from .base import CriticPairLoss


class CRDDistillLoss(CriticPairLoss):
    """CRD-style contrastive distillation: InfoNCE, no memory bank.

    ``loss = -I_NCE(critic(adapt_s(s), adapt_t(t)))``: InfoNCE over the N
    in-batch samples with the separable critic (cosine / tau), i.e. MUSE's
    MI term alone, with no self-information. CRD proper draws 16k negatives
    from a memory bank; here the negatives are the other sampled
    locations/images of the batch, as in MUSE, so the two differ only in the
    objective.

    Args:
        student_channels (int): channels C_s of the student feature.
        target_channels (int): channels C_t of the target feature.
        symmetric (bool): average both contrast directions (needs a square
            score matrix, so not with ``gather_negatives``). Defaults to
            False.
        critic (str | dict | nn.Module): the critic, see
            :func:`~..critics.build_critic`. Defaults to the paper's:
            ``dict(type='separable', tau=0.07)`` (with the default 128-d
            embeddings, L2-normalised).
        **kwargs: options of :class:`~.base.CriticPairLoss` (``embed_dim``,
            adapters, ``gather_negatives``, ...) and :class:`~.base.PairLoss`
            (``loss_weight``, sampling, ...).
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
        """Minus the InfoNCE estimate of the critic scores.

        Args:
            z_s (Tensor): student embeddings, shape (N, embed_dim).
            z_t (Tensor): target embeddings, shape (N, embed_dim) (gathered
                to (M, embed_dim) in :meth:`scores` with
                ``gather_negatives``).

        Returns:
            dict[str, Tensor]: ``loss`` (-I_NCE, unweighted scalar).
        """
        return dict(loss=-self.mi(*self.scores(z_s, z_t)))
