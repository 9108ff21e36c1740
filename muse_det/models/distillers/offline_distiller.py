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
    """Load ``path`` (plain or distiller checkpoint, ``weights_only``) into
    ``teacher``, strictly: missing or unexpected keys are a wrong teacher, not
    something to train past."""
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
        architecture: the student's config.
        teacher: the teacher's config (e.g. an R50 detector for
            an R18 student).
        teacher_ckpt: path of the teacher's trained weights (plain or distiller
            checkpoint); ``None`` only for tests and benchmarks (a random
            teacher teaches nothing).
        features: student features; ``None``: every neck (or backbone) output.
        teacher_features: the teacher's, paired one to one with ``features`` by
            position; ``None``: the same names.
        pairs: ``None``: ``features[i]`` taught by ``teacher_features[i]``;
            else ``[(student, teacher_feature[, weight]), ...]``.
        loss: the pair loss config (MUSE or a baseline).
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
        super().train(mode)
        self.teacher.eval()  # frozen statistics whatever the runner asks
        return self

    def forward_other_networks(self, inputs,
                               data_samples) -> Tuple[dict, dict]:
        rec = self.recorders[TEACHER]
        with torch.no_grad(), rec:
            self.teacher.extract_feat(inputs)
            return {(TEACHER, n): rec.get(n) for n in rec.names}, {}
