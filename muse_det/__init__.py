"""muse-det: MUSE feature distillation for MMDetection detectors and mmpretrain classifiers.

``import muse_det`` (or ``custom_imports=dict(imports=['muse_det'])`` in a config) registers the
distillers, losses, hooks, datasets and metrics in MMEngine's root registries, so configs with
``default_scope='mmdet'`` or ``'mmpretrain'`` find them without a scope prefix. ``muse_det.information`` is pure
PyTorch and works without any OpenMMLab package installed.
"""
from .version import __version__

try:
    import mmdet  # noqa: F401
except ImportError:  # information/ stays usable with PyTorch alone
    HAS_MM = False
else:
    HAS_MM = True
    from . import registry  # noqa: F401,E402

__all__ = ['__version__', 'HAS_MM']
