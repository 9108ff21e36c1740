"""Pair losses:
``loss(student, target) -> {'loss': weighted scalar to minimise, **logs}``.

MUSE and the baselines it must beat share one base (:class:`PairLoss`), so
the same pairs and sampling serve every method; each loss takes its own
options.
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
    """Build a pair loss from a name, a config dict or a module.

    ``build_pair_loss(dict(type='muse', variant='multiplicative'), 256,
    2048)``.

    Args:
        cfg (str | dict | nn.Module): a key of :data:`PAIR_LOSSES` ('muse',
            'l2', 'at', 'nst', 'cosine', 'vid', 'crd'), a
            ``dict(type=name, **kwargs)``, or a ready module (returned as
            is).
        student_channels (int): channels C_s of the student feature.
        target_channels (int): channels C_t of the target feature.
        **kwargs: further constructor arguments; the keys of a dict ``cfg``
            win over them and over the channel counts.

    Returns:
        PairLoss: the loss, ``loss(student, target) -> {'loss', **logs}``.
    """
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
