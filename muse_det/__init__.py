"""muse-det: MUSE feature distillation for MMDetection detectors and mmpretrain
classifiers.

``import muse_det`` (or ``custom_imports=dict(imports=['muse_det'])`` in a
config) registers the distillers, hooks, runner, optimiser wrapper, dataset
and metrics, all named ``MUSE...``, in MMEngine's root registries, so configs
with ``default_scope='mmdet'`` or ``'mmpretrain'`` find them without a scope
prefix; it changes nothing else. The pair losses (``'muse'``, ``'l2'``, ...)
are looked up in the distillers' own table, not registered.
What a run needs beyond registered types is named by its config (e.g.
``runner_type = 'MUSESafeCheckpointRunner'``). ``muse_det.information`` is pure
PyTorch and works without any OpenMMLab package installed.
"""
from .version import __version__, check_versions

try:
    import mmdet  # noqa: F401
except ImportError:  # muse_det.information stays usable with PyTorch alone
    pass
else:
    # an unsupported mmcv/mmdet/mmengine fails here, in one line naming the
    # supported range, rather than deep inside a run
    check_versions()
    # importing the implementation modules registers their types
    from . import checkpoint  # noqa: F401
    from . import datasets  # noqa: F401
    from . import engine  # noqa: F401
    from . import evaluation  # noqa: F401
    from . import models  # noqa: F401

__all__ = ['__version__']
