"""One registry tree: muse-det registers into MMDetection's registries (children of MMEngine's),
so mmdet configs (``default_scope='mmdet'``) find every muse-det type without a prefix, and
classification configs find mmdet's backbones. Importing this module registers everything."""
from mmdet.registry import (DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS,  # noqa: F401
                            VISBACKENDS, WEIGHT_INITIALIZERS)
