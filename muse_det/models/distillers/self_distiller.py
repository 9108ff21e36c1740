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

    Training returns the architecture's own losses plus ``loss_<method>``
    (e.g. ``loss_muse``) and the pair losses' logged terms; ``predict`` and
    ``tensor`` modes are the architecture's.

    Args:
        architecture (dict | nn.Module): the model config, typically
            ``_base_.model``.
        features (Sequence[str], optional): recorded features (module paths,
            ``[i]`` indexes tuple outputs, see
            :class:`~muse_det.models.recorders.FeatureSpec`). ``None``: the
            backbone's stages, else every neck output (FPN levels), else
            every backbone output
            (:func:`~muse_det.models.recorders.default_features`).
            Defaults to None.
        pairs (Sequence, optional): ``None``: every feature but the last is
            taught by the last (the deepest); else ``[(student, target[,
            weight]), ...]`` or ``dict(student=..., target=..., weight=...)``
            items (weight 1.0 by default). Defaults to None.
        loss (dict): the pair loss, ``dict(type='MUSELoss', ...)`` or a
            baseline (``'l2'``, ``'at'``, ``'nst'``, ``'cosine'``, ``'vid'``,
            ``'crd'``) with the same pairs. Defaults to
            ``dict(type='MUSELoss')``.
        **kwargs: :class:`~.base_distiller.BaseDistiller`'s options
            (``recorder_clone``, ``probe_input_shape``,
            ``grad_stats_interval``, ``init_cfg``, ``data_preprocessor``).

    Examples:
        >>> # the whole change to mmdet's retinanet_r50_fpn_1x_coco.py
        >>> # (configs/muse/muse_retinanet_r50_fpn_1x_coco.py)
        >>> model = dict(
        >>>     _delete_=True,
        >>>     type='MUSESelfDistiller',
        >>>     architecture=_base_.model,
        >>>     features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
        >>>     loss=dict(type='MUSELoss', variant='multiplicative',
        >>>               num_samples=256, share_target_adapter=False))
        >>> custom_hooks = [dict(type='MUSEHook')]
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
