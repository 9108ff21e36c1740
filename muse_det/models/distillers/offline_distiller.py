"""Offline distillation: a frozen teacher's features teach the student's."""
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import nn

from muse_det.checkpoint import safe_load
from muse_det.registry import MODELS
from .base_distiller import BaseDistiller, build_network
from .export import model_state_dict, state_dict_of
from .feature_pairs import ARCHITECTURE, normalise_features, parse_pairs
from .isolated_rng import isolated_rng

TEACHER = 'teacher'


def load_teacher_weights(teacher: nn.Module, path: str) -> None:
    """Load a trained teacher's weights, strictly: missing, unexpected or
    reshaped keys are a wrong teacher, not something to train past.

    Args:
        teacher (nn.Module): the built teacher; loaded in place.
        path (str): a plain or distiller checkpoint, read with
            :func:`~muse_det.checkpoint.safe_load` (``weights_only``); of a
            distiller's, the ``architecture.*`` weights are loaded.

    Raises:
        ValueError: the checkpoint holds no state dict, or its keys or
            shapes do not match ``teacher`` (the message lists them).
        MissingFileError: ``path`` does not exist.
        UnsafeCheckpointError: ``path`` needs globals beyond the allow-list.
    """
    state = model_state_dict(
        state_dict_of(safe_load(path), f'teacher checkpoint {path}'))
    own = teacher.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shape = sorted(
        k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or shape:

        def few(keys):
            return ', '.join(keys[:5]) + (f' (+{len(keys) - 5} more)'
                                          if len(keys) > 5 else '')

        parts = [
            f'{len(missing)} missing: {few(missing)}' if missing else '',
            f'{len(unexpected)} unexpected: {few(unexpected)}'
            if unexpected else '',
            f'{len(shape)} with other shapes: {few(shape)}' if shape else ''
        ]
        raise ValueError(
            f'teacher checkpoint {path} does not match the teacher config (' +
            '; '.join(p for p in parts if p) +
            '). Check that `teacher` is the config the '
            'checkpoint was trained with.')
    teacher.load_state_dict(state, strict=True)


@MODELS.register_module()
class MUSEOfflineDistiller(BaseDistiller):
    """Train ``architecture`` (the student) with MUSE towards a
    frozen ``teacher``.

    The teacher is loaded from ``teacher_ckpt`` (``weights_only``), frozen (no
    gradients, BN and dropout always in eval mode), runs only ``extract_feat``
    under ``no_grad``, and is left out of the exported student.

    Args:
        architecture (dict | nn.Module): the student's config.
        teacher (dict | nn.Module): the teacher's config (e.g. an R50
            detector for an R18 student).
        teacher_ckpt (str, optional): path of the teacher's trained weights
            (plain or distiller checkpoint); ``None`` only for tests and
            benchmarks (a random teacher teaches nothing). Defaults to None.
        features (Sequence[str], optional): student features; ``None``: the
            backbone's stages, else every neck output, else every backbone
            output (:func:`~muse_det.models.recorders.default_features`).
            Defaults to None.
        teacher_features (Sequence[str], optional): the teacher's, paired one
            to one with ``features`` by position; ``None``: the same names.
            Defaults to None.
        pairs (Sequence, optional): ``None``: ``features[i]`` taught by
            ``teacher_features[i]``; else ``[(student, teacher_feature[,
            weight]), ...]`` or ``dict(student=..., target=..., weight=...)``
            items. Defaults to None.
        loss (dict): the pair loss config (MUSE or a baseline). Defaults to
            ``dict(type='MUSELoss')``.
        **kwargs: :class:`~.base_distiller.BaseDistiller`'s options
            (``recorder_clone``, ``probe_input_shape``,
            ``grad_stats_interval``, ``init_cfg``, ``data_preprocessor``).

    Raises:
        ValueError: ``pairs=None`` with ``features`` and
            ``teacher_features`` of different lengths, or a teacher
            checkpoint that does not match ``teacher``.

    Examples:
        >>> # configs/muse/offline/
        >>> # muse-offline_faster-rcnn_r50-to-r18_fpn_1x_coco.py
        >>> model = dict(
        >>>     _delete_=True,
        >>>     type='MUSEOfflineDistiller',
        >>>     architecture=student,  # an R18-FPN Faster R-CNN
        >>>     teacher=_base_.model,
        >>>     teacher_ckpt='checkpoints/faster-rcnn_r50_fpn_1x_coco.pth',
        >>>     features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
        >>>     loss=dict(type='MUSELoss', variant='multiplicative',
        >>>               num_samples=256, share_target_adapter=False))
        >>> custom_hooks = [dict(type='MUSEHook')]
    """

    def __init__(self,
                 architecture: Union[dict, nn.Module],
                 teacher: Union[dict, nn.Module],
                 teacher_ckpt: Optional[str] = None,
                 features: Optional[Sequence[str]] = None,
                 teacher_features: Optional[Sequence[str]] = None,
                 pairs: Optional[Sequence] = None,
                 loss: dict = dict(type='MUSELoss'),
                 **kwargs):
        super().__init__(architecture=architecture, loss=loss, **kwargs)
        with isolated_rng('teacher'):  # see isolated_rng
            self.teacher = build_network(teacher)
        if teacher_ckpt is not None:
            load_teacher_weights(self.teacher, teacher_ckpt)
            # the runner's init_weights() must not re-initialise
            # the loaded teacher
            self.teacher._is_init = True
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        features = self.default_features(ARCHITECTURE) if features is None \
            else normalise_features(features)
        teacher_features = list(features) if teacher_features is None \
            else normalise_features(teacher_features)
        self.add_network(ARCHITECTURE, features)
        self.add_network(TEACHER, teacher_features)
        if pairs is None:
            if len(teacher_features) != len(features):
                raise ValueError(
                    f'`features` ({len(features)}) and `teacher_features` '
                    f'({len(teacher_features)}) pair up by position, so they '
                    'need the same length; or give `pairs` explicitly.')
            pairs = list(zip(features, teacher_features))
        self.build_pairs(
            parse_pairs(
                pairs,
                features,
                target_net=TEACHER,
                target_features=teacher_features))

    def train(self, mode: bool = True):
        """Set the training mode as ``nn.Module.train`` does, but keep the
        teacher in eval mode (frozen BN statistics, no dropout).

        Args:
            mode (bool): training (True) or eval (False) mode of the student
                and the pair losses. Defaults to True.

        Returns:
            MUSEOfflineDistiller: ``self``.
        """
        super().train(mode)
        self.teacher.eval()  # frozen statistics whatever the runner asks
        return self

    def forward_other_networks(self, inputs,
                               data_samples) -> Tuple[dict, dict]:
        """Run the frozen teacher's ``extract_feat`` under ``no_grad`` and
        record its features.

        Args:
            inputs (Tensor): the preprocessed images, shape (B, 3, H, W).
            data_samples (list): the batch's data samples (unused: the
                teacher computes no loss).

        Returns:
            tuple[dict, dict]: the teacher's features ``{('teacher', name):
            Tensor}`` (each as the module produced it, e.g. (B, C, H, W),
            without gradient) and no losses (``{}``).
        """
        rec = self.recorders[TEACHER]
        with torch.no_grad(), rec:
            self.teacher.extract_feat(inputs)
            return {(TEACHER, n): rec.get(n) for n in rec.names}, {}
