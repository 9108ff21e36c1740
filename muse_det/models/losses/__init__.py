"""Register the pure-PyTorch pair losses of :mod:`muse_det.information` in mmdet's MODELS.

Each loss is registered under its class name and under its short method name, so switching
``loss=dict(type='MUSELoss')`` to ``type='l2'`` (or ``'L2DistillLoss'``), ``'at'``, ``'nst'``,
``'cosine'``, ``'vid'``, ``'crd'`` is the whole change needed to compare methods.
"""
from muse_det.information import PAIR_LOSSES
from muse_det.registry import MODELS

for _short_name, _cls in PAIR_LOSSES.items():
    MODELS.register_module(name=_cls.__name__, module=_cls, force=True)
    MODELS.register_module(name=_short_name, module=_cls, force=True)

globals().update({cls.__name__: cls for cls in PAIR_LOSSES.values()})
__all__ = [cls.__name__ for cls in PAIR_LOSSES.values()]
