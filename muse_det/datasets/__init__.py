"""Classification data. The datasets and transforms are mmpretrain's; this adds
the reader of CIFAR-100-format files other than the official release
(the toy set). Detection data comes from mmdet, and detection works without
mmpretrain installed."""
from importlib.util import find_spec

if find_spec('mmpretrain') is not None:
    from .toy_cifar import MUSEToyCIFAR100  # noqa: F401

    __all__ = ['MUSEToyCIFAR100']
