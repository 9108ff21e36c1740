"""Deep mutual learning (Zhang et al., CVPR 2018): peers match each other's
softened predictions."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from . import finite_watch
from .validation import check_weight


def mutual_learning_losses(logits: Sequence[Tensor],
                           temperature: float = 1.0,
                           check_finite: bool = True) -> List[Tensor]:
    """Deep-mutual-learning losses, one per peer.

    ``L_i = T^2 / (K-1) * sum_{j != i} KL(p_j || p_i)``,
    ``p_k = softmax(logits_k / T)`` over dim 1, the KL averaged over the
    batch (and locations). The teaching side ``p_j`` is detached: each peer
    learns from the others' current predictions and is not pulled towards
    its own pupils. ``T^2`` keeps the gradient scale independent of the
    temperature (Hinton et al. 2015).

    Args:
        logits (Sequence[Tensor]): the K >= 2 peers' logits, one shape
            (B, C) (classifiers) or (B, C, H, W) (dense predictions, e.g.
            segmentation: one distribution per location), any trailing dims.
        temperature (float): softmax temperature T, > 0. Defaults to 1.0.
        check_finite (bool): raise on NaN/Inf logits (one device sync);
            False: the caller watches the logits itself (see
            :class:`~.finite_watch.FiniteWatch`). Defaults to True.

    Returns:
        list[Tensor]: K scalar losses, fp32, ``L_i`` for peer i.

    Raises:
        ValueError: fewer than 2 peers, shapes that differ or have fewer than
            2 dims, a temperature that is not positive, or (with
            ``check_finite``) non-finite logits.
    """
    if len(logits) < 2:
        raise ValueError(
            'mutual learning needs the logits of at least 2 peers, got '
            f'{len(logits)}')
    temperature = check_weight(temperature, 'temperature')
    if temperature == 0:
        raise ValueError('temperature must be positive, got 0')
    shape = tuple(logits[0].shape)
    for k, z in enumerate(logits):
        if tuple(z.shape) != shape or z.ndim < 2:
            raise ValueError(
                'peer logits must share one shape [B, C, ...] (the same '
                f'classes and locations); peer 0 has {shape}, peer {k} '
                f'{tuple(z.shape)}')
    if check_finite:
        finite_watch.check_finite(
            **{f'peer {k} logits': z
               for k, z in enumerate(logits)})
    # class dim last, everything else is a sample: [B, C, *S] -> [B * S, C]
    flat = [
        z.float().movedim(1, -1).reshape(-1, shape[1]) / temperature
        for z in logits
    ]
    log_p = [F.log_softmax(z, dim=1) for z in flat]
    losses = []
    for i, log_p_i in enumerate(log_p):
        kl = [
            F.kl_div(
                log_p_i,
                log_p[j].detach(),
                log_target=True,
                reduction='batchmean') for j in range(len(log_p)) if j != i
        ]
        losses.append(torch.stack(kl).mean() * temperature**2)
    return losses
