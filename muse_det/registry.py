"""One registry tree, declared once.

muse-det registers its types into MMDetection's registries (themselves children of MMEngine's),
so mmdet configs (``default_scope='mmdet'``) find every muse-det type without a scope prefix and
classification configs find mmdet's backbones. The empty ``muse_det``-scoped children let a
config inherited through ``muse_det::`` (whose dicts mmengine tags ``_scope_='muse_det'``), or a
``default_scope='muse_det'``, resolve to the same types through their parent.

Runners are registered in MMEngine's root registry: tools build them (``RUNNERS.build(cfg)``,
mmdet's train.py included) before any default scope exists, and look them up from the root.

This module declares registries only; importing ``muse_det`` imports the modules that
register into them.
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
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import Registry

SCOPE = 'muse_det'

# Where muse-det registers: mmdet's registries themselves (runners: MMEngine's root, above).
MODELS = MMDET_MODELS
DATASETS = MMDET_DATASETS
TRANSFORMS = MMDET_TRANSFORMS
METRICS = MMDET_METRICS
HOOKS = MMDET_HOOKS
OPTIM_WRAPPERS = MMDET_OPTIM_WRAPPERS
RUNNERS = MMENGINE_RUNNERS

_SCOPED_CHILDREN = [
    Registry(parent.name, parent=parent, scope=SCOPE)
    for parent in (MMDET_MODELS, MMDET_DATASETS, MMDET_TRANSFORMS, MMDET_METRICS,
                   MMDET_HOOKS, MMDET_EVALUATOR, MMDET_LOOPS, MMDET_MODEL_WRAPPERS,
                   MMDET_OPTIM_WRAPPERS, MMDET_PARAM_SCHEDULERS, MMDET_RUNNERS,
                   MMDET_VISBACKENDS, MMDET_VISUALIZERS)
]
