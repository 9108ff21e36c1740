"""Pair losses:
``loss(student, target) -> {'loss': weighted scalar to minimise, **logs}``.

MUSE and the baselines it must beat share one base (:class:`PairLoss`):
switching ``type`` is the whole change.
"""
from ..name_table import build_from_table
from .at import ATDistillLoss
from .base import CriticPairLoss, PairLoss, StudentAdaptedLoss
from .cosine import CosineDistillLoss
from .crd import CRDDistillLoss
from .l2 import L2DistillLoss
from .muse import MUSELoss
from .nst import NSTDistillLoss
from .vid import VIDDistillLoss

PAIR_LOSSES = {
    cls.name: cls
    for cls in (MUSELoss, L2DistillLoss, ATDistillLoss, NSTDistillLoss,
                CosineDistillLoss, VIDDistillLoss, CRDDistillLoss)
}


def build_pair_loss(cfg, student_channels: int, target_channels: int,
                    **kwargs) -> PairLoss:
    """``build_pair_loss(dict(type='muse', variant='multiplicative'),
    256, 2048)``."""
    return build_from_table(
        'pair loss',
        cfg,
        PAIR_LOSSES,
        student_channels=student_channels,
        target_channels=target_channels,
        **kwargs)


__all__ = [
    'PairLoss', 'StudentAdaptedLoss', 'CriticPairLoss', 'MUSELoss',
    'L2DistillLoss', 'ATDistillLoss', 'NSTDistillLoss', 'CosineDistillLoss',
    'VIDDistillLoss', 'CRDDistillLoss', 'PAIR_LOSSES', 'build_pair_loss'
]
