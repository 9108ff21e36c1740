"""Register the pure-PyTorch pair losses of :mod:`muse_det.information` in
mmdet's MODELS.

Each loss is registered under its class name (``MUSELoss``,
``L2DistillLoss``...) and under its short method name (``muse``, ``l2``,
``at``, ``nst``, ``cosine``, ``vid``, ``crd``: lower case, which no
mmdet/MMEngine type uses), so switching ``loss=dict(type='MUSELoss')`` to
``type='l2'`` is the whole change needed to compare methods. A name taken
already is an error.
"""
from muse_det.information import PAIR_LOSSES
from muse_det.registry import MODELS

for _short_name, _cls in PAIR_LOSSES.items():
    MODELS.register_module(name=_cls.__name__, module=_cls)
    MODELS.register_module(name=_short_name, module=_cls)

globals().update({cls.__name__: cls for cls in PAIR_LOSSES.values()})
__all__ = [cls.__name__ for cls in PAIR_LOSSES.values()]
