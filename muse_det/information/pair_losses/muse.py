"""MUSE pair loss: maximise I(s; t) and the student's self-information H(s)."""
from typing import Dict, Optional

import torch
from torch import Tensor

from ..objective import MUSEObjective
from ..validation import check_positive_int
from .base import CriticPairLoss


def fixed_orthonormal_projection(in_dim: int,
                                 out_dim: int,
                                 seed: int = 0) -> Tensor:
    """A random matrix with orthonormal columns, drawn from a fixed seed.

    The same on every rank and in every run (QR of a seeded Gaussian matrix,
    on the CPU).

    Args:
        in_dim (int): rows.
        out_dim (int): columns, <= ``in_dim``.
        seed (int): generator seed. Defaults to 0.

    Returns:
        Tensor: the projection P, shape (in_dim, out_dim), fp32,
        ``P^T P = I``.
    """
    gaussian = torch.randn(
        in_dim, out_dim, generator=torch.Generator().manual_seed(seed))
    return torch.linalg.qr(gaussian).Q


class MUSELoss(CriticPairLoss):
    """MUSE pair loss: ``loss = -loss_weight * J``.

    J is the :class:`~..objective.MUSEObjective` of the pair. Pipeline: N
    paired sample vectors s (N, C_s), t (N, C_t) at the same image points ->
    I(s; t): adapters to z_s, z_t in R^embed_dim -> critic scores (N, M) ->
    ``mi_estimator``; H(s): ``entropy_estimator`` on v = s P
    (:meth:`entropy_view`), a *fixed* view of the raw student samples -> J
    (multiplicative, the default, or additive), with d = d_H. ``forward``
    returns ``{'loss', 'mi', 'entropy'}`` (the last two detached).

    Self-information view: P (C_s, d_H) is a fixed random orthonormal
    projection (a seeded buffer, identical across ranks and saved with
    checkpoints; the identity when C_s <= ``entropy_dim``), and the estimator
    standardises v (gaussian) or puts its rows on the unit sphere
    (coding_rate), so the view is scale-free and nothing learnable sits
    between the layer and its entropy: a learnable view (e.g. the adapter
    output) decorrelates itself and teaches the layer nothing (why:
    docs/method.md, "Self-information").

    Args:
        student_channels (int): channels C_s of the student feature.
        target_channels (int): channels C_t of the target feature.
        variant (str): 'multiplicative' or 'additive', see
            :class:`~..objective.MUSEObjective`. Defaults to
            'multiplicative'.
        mi_estimator (str | dict | nn.Module): see
            :class:`~..objective.MUSEObjective`. Defaults to 'jsd'.
        entropy_estimator (str | dict | nn.Module, optional): see
            :class:`~..objective.MUSEObjective`; None: the variant's
            default. Defaults to None.
        entropy_weight (float, optional): lambda, additive only; None: 0.1.
            Defaults to None.
        mi_weight (float, optional): mu, additive only; None: 1. Defaults to
            None.
        entropy_dim (int, optional): d_H, the dimension of the fixed view;
            small enough to keep N >> d_H, where a log-det is well
            conditioned (why: docs/method.md, "Defaults, and why"). None, or
            >= C_s: the raw samples (P = identity). Defaults to 32.
        **kwargs: options of :class:`~.base.CriticPairLoss` (``embed_dim``,
            ``critic``, adapters, ``gather_negatives``,
            ``share_target_adapter``) and :class:`~.base.PairLoss`
            (``loss_weight``, sampling, ``detach_target``, ``strides``, ...).
    """

    name = 'muse'
    # pairs taught by one target share its adapter (docs/method.md, "Pairs
    # that share a target")
    share_target_adapter_default = True

    def __init__(self,
                 student_channels: int,
                 target_channels: int,
                 *,
                 variant: str = 'multiplicative',
                 mi_estimator='jsd',
                 entropy_estimator=None,
                 entropy_weight: Optional[float] = None,
                 mi_weight: Optional[float] = None,
                 entropy_dim: Optional[int] = 32,
                 **kwargs):
        super().__init__(student_channels, target_channels, **kwargs)
        self.objective = MUSEObjective(variant, mi_estimator,
                                       entropy_estimator, entropy_weight,
                                       mi_weight)
        if entropy_dim is not None and (check_positive_int(
                entropy_dim, 'entropy_dim') < student_channels):
            self.register_buffer(
                'entropy_projection',
                fixed_orthonormal_projection(student_channels, entropy_dim))
        else:
            self.entropy_projection = None

    def entropy_view(self, s: Tensor) -> Tensor:
        """The fixed view v = s P the entropy is measured on.

        Args:
            s (Tensor): raw student samples, shape (N, C_s).

        Returns:
            Tensor: v, shape (N, d_H), fp32; d_H = ``entropy_dim`` when it
            is set and below C_s, else C_s (v = s).
        """
        s = s.float()
        return (s if self.entropy_projection is None else
                s @ self.entropy_projection.float())

    def critic_terms(self, s: Tensor, z_s: Tensor,
                     z_t: Tensor) -> Dict[str, Tensor]:
        """Minus the MUSE objective of the sampled pair.

        Args:
            s (Tensor): raw student samples, shape (N, C_s).
            z_s (Tensor): student embeddings, shape (N, embed_dim), fp32.
            z_t (Tensor): target embeddings, shape (N, embed_dim), fp32.

        Returns:
            dict[str, Tensor]: ``loss`` (-J, unweighted scalar), ``mi`` and
            ``entropy`` (scalars; :meth:`forward` weights the loss and
            detaches the others).
        """
        scores, offset = self.scores(z_s, z_t)
        out = self.objective(scores, self.entropy_view(s), offset)
        return dict(
            loss=-out['objective'], mi=out['mi'], entropy=out['entropy'])
