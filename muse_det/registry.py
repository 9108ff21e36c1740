"""One registry tree, declared once.

muse-det registers its types in MMEngine's root registries, the common
parent of every OpenMMLab scope's: a type not found in the scope's own
registry is looked up in its ancestors, so detection configs
(``default_scope='mmdet'``) and classification configs
(``default_scope='mmpretrain'``) find every muse-det type by the same
name, while ``ResNet``, ``ImageClassifier``, ``CocoMetric`` or ``Accuracy``
still resolve to the scope's own. Every scope shares these registries, so
muse-det puts only ``MUSE``-prefixed names there (the pair losses' short names
stay in the distillers' own table, :mod:`muse_det.models.losses`). The
empty ``muse_det``-scoped children let a config inherited through
``muse_det::`` (whose dicts mmengine tags ``_scope_='muse_det'``), or a
``default_scope='muse_det'``, resolve mmdet's
types and muse-det's through their parents.

Runners are registered in MMEngine's root registry too: tools build them
(``RUNNERS.build(cfg)``, mmdet's train.py included) before any default scope
exists, and look them up from the root.

This module declares registries only; importing ``muse_det`` imports the
modules that register into them.
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
from mmengine.registry import DATASETS as ROOT_DATASETS
from mmengine.registry import HOOKS as ROOT_HOOKS
from mmengine.registry import METRICS as ROOT_METRICS
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import OPTIM_WRAPPERS as ROOT_OPTIM_WRAPPERS
from mmengine.registry import RUNNERS as ROOT_RUNNERS
from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS
from mmengine.registry import Registry

SCOPE = 'muse_det'

# Where muse-det registers: MMEngine's root registries, seen from every scope
# (mmdet, mmpretrain, ...). Builds still happen in the config's default scope,
# so the networks a distiller wraps come from that scope's registry.
MODELS = ROOT_MODELS
DATASETS = ROOT_DATASETS
TRANSFORMS = ROOT_TRANSFORMS
METRICS = ROOT_METRICS
HOOKS = ROOT_HOOKS
OPTIM_WRAPPERS = ROOT_OPTIM_WRAPPERS
RUNNERS = ROOT_RUNNERS

# A child does not make its parent import its modules, so each child
# imports mmdet's own (a muse_det-scoped build of FCOS must find mmdet's
# FCOS registered).
_SCOPED_CHILDREN = [
    Registry(
        parent.name,
        parent=parent,
        scope=SCOPE,
        locations=list(getattr(parent, '_locations', [])))
    for parent in (MMDET_MODELS, MMDET_DATASETS, MMDET_TRANSFORMS,
                   MMDET_METRICS, MMDET_HOOKS, MMDET_EVALUATOR, MMDET_LOOPS,
                   MMDET_MODEL_WRAPPERS, MMDET_OPTIM_WRAPPERS,
                   MMDET_PARAM_SCHEDULERS, MMDET_RUNNERS, MMDET_VISBACKENDS,
                   MMDET_VISUALIZERS)
]
