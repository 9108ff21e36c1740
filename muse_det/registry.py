"""One registry tree, declared once.

muse-det registers its types into MMDetection's registries (themselves children of MMEngine's),
so mmdet configs (``default_scope='mmdet'``) find every muse-det type without a scope prefix and
classification configs find mmdet's backbones. The empty ``muse_det``-scoped children let a
config inherited through ``muse_det::`` (whose dicts mmengine tags ``_scope_='muse_det'``), or a
``default_scope='muse_det'``, resolve to the same types through their parent.
"""
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import EVALUATOR as MMDET_EVALUATOR
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import LOOPS as MMDET_LOOPS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODEL_WRAPPERS as MMDET_MODEL_WRAPPERS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import OPTIM_WRAPPERS as MMDET_OPTIM_WRAPPERS
from mmdet.registry import PARAM_SCHEDULERS as MMDET_PARAM_SCHEDULERS
from mmdet.registry import RUNNERS as MMDET_RUNNERS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISBACKENDS as MMDET_VISBACKENDS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmengine.registry import Registry

SCOPE = 'muse_det'

# Where muse-det registers: mmdet's registries themselves.
MODELS = MMDET_MODELS
DATASETS = MMDET_DATASETS
TRANSFORMS = MMDET_TRANSFORMS
METRICS = MMDET_METRICS
HOOKS = MMDET_HOOKS
OPTIM_WRAPPERS = MMDET_OPTIM_WRAPPERS

_SCOPED_CHILDREN = [
    Registry(parent.name, parent=parent, scope=SCOPE)
    for parent in (MMDET_MODELS, MMDET_DATASETS, MMDET_TRANSFORMS, MMDET_METRICS,
                   MMDET_HOOKS, MMDET_EVALUATOR, MMDET_LOOPS, MMDET_MODEL_WRAPPERS,
                   MMDET_OPTIM_WRAPPERS, MMDET_PARAM_SCHEDULERS, MMDET_RUNNERS,
                   MMDET_VISBACKENDS, MMDET_VISUALIZERS)
]


def _enable_package_configs():
    """Let ``_base_ = 'muse_det::<path>'`` resolve like ``mmdet::`` (configs ship in
    ``muse_det/.mim/configs``). mmengine only knows the packages in its own table.

    mmengine locates a package as ``<distribution location>/<name>``, which is wrong for
    editable installs (the location is site-packages, the code is in the checkout). A module
    path has no distribution, so mmengine falls back to ``importlib``'s spec of the module,
    whose folder is the real ``muse_det`` package in every kind of install.
    """
    from mmengine.config import utils as config_utils
    config_utils.MODULE2PACKAGE.setdefault(SCOPE, f'{SCOPE}.registry')


_enable_package_configs()

# Importing the implementation modules registers them.
from . import engine, models  # noqa: F401,E402
from .engine import checkpoint_safety  # noqa: F401,E402 (safe, atomic checkpoints for MMEngine)
from . import datasets, evaluation  # noqa: F401,E402 (classification data and metric)
