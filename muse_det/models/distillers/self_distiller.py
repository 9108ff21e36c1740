"""Self-distillation: a network's deep features teach its shallow ones."""
from typing import Optional, Sequence, Union

from torch import nn

from muse_det.registry import MODELS
from .base_distiller import BaseDistiller
from .feature_pairs import ARCHITECTURE, normalise_features, parse_pairs


@MODELS.register_module()
class MUSESelfDistiller(BaseDistiller):
    """Wrap any mmdet detector (or classifier) and add MUSE between
    its own features.

    Example (the whole change to an mmdet config)::

        model = dict(
            _delete_=True,
            type='MUSESelfDistiller',
            architecture=_base_.model,
            features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
            loss=dict(type='MUSELoss', variant='multiplicative'))

    Args:
        architecture: the model config, typically ``_base_.model``.
        features: recorded features (module paths, ``[i]`` indexes tuple
            outputs). ``None``: the backbone's stages, or every neck output
            (FPN levels) when the backbone has none
            (``default_features`` in ``models/recorders``).
        pairs: ``None``: every feature but the last is taught by the last
            (the deepest); else ``[(student, target[, weight]), ...]`` or dicts
            with those keys.
        loss: the pair loss, ``dict(type='MUSELoss', ...)`` or a baseline
            (``'l2'``, ``'at'``, ``'nst'``, ``'cosine'``, ``'vid'``, ``'crd'``)
            with the same pairs.
    """

    def __init__(self,
                 architecture: Union[dict, nn.Module],
                 features: Optional[Sequence[str]] = None,
                 pairs: Optional[Sequence] = None,
                 loss: dict = dict(type='MUSELoss'),
                 **kwargs):
        super().__init__(architecture=architecture, loss=loss, **kwargs)
        features = self.default_features(ARCHITECTURE) if features is None \
            else normalise_features(features)
        self.add_network(ARCHITECTURE, features)
        self.build_pairs(parse_pairs(pairs, features))
