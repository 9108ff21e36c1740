"""The machinery every distiller shares: networks with recorders, feature pairs and their losses.

A distiller is an ordinary ``BaseModel`` that owns the recorded network(s) and one pair loss per
(student feature, target feature) pair. Adapters and critics live inside the pair losses, so
DDP, optimisers, EMA and checkpoints see them. ``loss()`` returns the wrapped model's own loss
dict plus ``loss_<method>``; ``predict()`` and ``tensor`` mode are the wrapped model's.
"""
import copy
import inspect
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from torch import nn

from muse_det.information import PAIR_LOSSES
from muse_det.information.checks import FiniteWatch, check_positive_int, non_finite_message
from muse_det.registry import MODELS
from ..recorders import FeatureRecorder, FeatureSpec, default_features, probe_features
from ..recorders.receptive_field import receptive_field_offsets

ARCHITECTURE = 'architecture'
# Loss types that take the shared sampling generator (the registered pair losses).
PAIR_LOSS_TYPES = {*PAIR_LOSSES, *(cls.__name__ for cls in PAIR_LOSSES.values())}


def _init_keywords(cls) -> set:
    """Keyword arguments ``cls`` accepts, following ``**kwargs`` up the class hierarchy."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names - {'self'}


def adapt_loss_cfg(cfg: dict) -> dict:
    """Drop options that belong to *other* pair losses, so switching ``type`` (e.g. by
    ``--cfg-options model.loss.type=l2`` over a MUSE config) is the whole change; an option no
    pair loss knows is an error listing the valid ones."""
    if cfg.get('type') not in PAIR_LOSS_TYPES:
        return cfg
    cls = MODELS.get(cfg['type'])
    own = _init_keywords(cls)
    known = set().union(*(_init_keywords(c) for c in PAIR_LOSSES.values()))
    given = set(cfg) - {'type'}
    unknown = sorted(given - known)
    if unknown:
        raise ValueError(f'unknown option(s) {unknown} for loss {cfg["type"]!r}; valid: '
                         f'{sorted(own - {"student_channels", "target_channels", "generator"})}')
    foreign = sorted(given - own)
    if foreign:
        from mmengine.logging import print_log
        print_log(f'loss {cfg["type"]!r} ignores options of other losses: {foreign}',
                  logger='current')
    return {k: v for k, v in cfg.items() if k not in foreign}


@dataclass(frozen=True)
class FeaturePair:
    """A student feature taught by a target feature; each end is (network key, feature name)."""
    student: Tuple[str, str]
    target: Tuple[str, str]
    weight: float = 1.0


def feature_label(net: str, feature: str) -> str:
    """A log-friendly name: ``neck[0]`` -> ``neck.0``; other networks' features are prefixed."""
    name = re.sub(r'\[(-?\d+)\]', r'.\1', feature)
    return name if net == ARCHITECTURE else f'{net}.{name}'


def _iteration() -> str:
    """``'iteration <i>, '`` of the running training loop for error messages (``''`` outside
    one): MMEngine's message hub has it."""
    iteration = MessageHub.get_current_instance().get_info('iter')
    return '' if iteration is None else f'iteration {iteration}, '


def _check_weight(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'{what} must be a non-negative number, got {value!r} '
                         f'({type(value).__name__})')
    if not value >= 0:
        raise ValueError(f'{what} must be a non-negative number, got {value!r}')
    return float(value)


def image_shapes(data_samples) -> Optional[List[Tuple[int, int]]]:
    """Each sample's unpadded ``img_shape`` (h, w), or None where any sample lacks one."""
    if not data_samples:
        return None
    shapes = [getattr(ds, 'metainfo', {}).get('img_shape') for ds in data_samples]
    return None if any(s is None for s in shapes) else [tuple(s[:2]) for s in shapes]


def _loss_sum(value) -> torch.Tensor:
    return sum(value) if isinstance(value, (list, tuple)) else value


def task_losses(losses: dict) -> dict:
    """A wrapped network's own losses, for the log. mmpretrain's heads call theirs ``loss``,
    the name mmengine gives the total (the log would show one in place of the other): it
    becomes ``loss_cls``, as mmdet names classification losses."""
    losses = dict(losses)
    if 'loss' in losses:
        losses['loss_cls'] = losses.pop('loss')
    return losses


def build_network(cfg) -> nn.Module:
    """Build a network from a config dict, or take an ``nn.Module`` as is."""
    if isinstance(cfg, nn.Module):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(
            f'a network config must be a dict with a "type" key (e.g. the detector config '
            f'`_base_.model`), got {type(cfg).__name__}')
    return MODELS.build(copy.deepcopy(cfg))


class BaseDistiller(BaseModel):
    """Shared logic of the self-, online- and offline distillers.

    Subclasses register their networks with :meth:`add_network`, then call
    :meth:`build_pairs`. The data preprocessor is the wrapped architecture's own (a top-level
    ``data_preprocessor`` of an mmpretrain config is given to it), so the distiller sees
    exactly the batches the plain model would.

    Args:
        architecture: config (or module) of the trained model, e.g. ``_base_.model``.
        loss: config of the pair loss (``MUSELoss`` or a baseline such as ``'l2'``), built once
            per pair with ``student_channels``/``target_channels`` from the probed features.
        recorder_clone: copy recorded outputs (only for models that modify them in place).
        probe_input_shape: (C, H, W) of the zero input run once at construction to measure
            feature shapes; ``None``: a size the model's configuration implies, doubled while
            the model fails on it (see :mod:`muse_det.models.recorders.shape_probe`).
        grad_stats_interval: every that many training iterations, log
            ``grad_ratio/<student feature>`` (see :meth:`grad_ratios`); None (default): never.
    """

    def __init__(self,
                 architecture: Union[dict, nn.Module],
                 loss: dict,
                 recorder_clone: bool = False,
                 probe_input_shape: Optional[Sequence[int]] = None,
                 grad_stats_interval: Optional[int] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None):
        if isinstance(data_preprocessor, dict) and isinstance(architecture, dict) \
                and 'data_preprocessor' not in architecture:
            # mmpretrain configs keep the classifier's data preprocessor at the top level, and
            # the Runner hands it to the outermost model: it belongs to the wrapped network.
            architecture = dict(architecture, data_preprocessor=data_preprocessor)
            data_preprocessor = None
        arch = build_network(architecture)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if data_preprocessor is None and hasattr(arch, 'data_preprocessor'):
            self.data_preprocessor = arch.data_preprocessor
        self.architecture = arch
        if not isinstance(loss, dict) or 'type' not in loss:
            raise ValueError(f'`loss` must be a config dict with a "type" key, e.g. '
                             f'dict(type="MUSELoss"), got {loss!r}')
        self.loss_cfg = dict(loss)
        self.recorder_clone = recorder_clone
        self.probe_input_shape = None if probe_input_shape is None else tuple(probe_input_shape)
        # Scaled by MUSEHook (warm-up, stop after an epoch); plain floats, not state.
        self.distill_weight_scale = 1.0
        # NaN/Inf of this step's features, kept on the device; read only once the step's loss
        # is non-finite (raise_if_features_non_finite), so a healthy step never syncs for it.
        self.finite_watch = FiniteWatch()
        if grad_stats_interval is not None:
            check_positive_int(grad_stats_interval, 'grad_stats_interval')
        self.grad_stats_interval = grad_stats_interval
        self._network_keys: List[str] = []
        self.recorders: Dict[str, FeatureRecorder] = {}
        self.pairs: List[FeaturePair] = []
        self.add_network(ARCHITECTURE, [])

    # ----------------------------------------------------------------- building
    def add_network(self, key: str, features: Sequence[str]) -> None:
        if key not in self._network_keys:
            self._network_keys.append(key)
        self.recorders[key] = FeatureRecorder(getattr(self, key), list(features),
                                              clone=self.recorder_clone)

    def network(self, key: str) -> nn.Module:
        return getattr(self, key)

    def default_features(self, key: str) -> List[str]:
        """See :func:`muse_det.models.recorders.default_features`."""
        return default_features(self.network(key), self.probe_input_shape)

    def probe_shapes(self, key: str) -> Tuple[Dict[str, Tuple[int, ...]],
                                               Dict[str, Optional[float]]]:
        """Shape (without batch) and stride of every recorded feature of network ``key``."""
        return probe_features(self.network(key), self.recorders[key], self.probe_input_shape)

    def build_pairs(self, pairs: Sequence[FeaturePair]) -> None:
        """Build one pair loss per pair from the probed channel counts."""
        probed = {key: self.probe_shapes(key) for key in self._network_keys
                  if self.recorders[key].names}
        shapes = {key: p[0] for key, p in probed.items()}
        strides = {key: p[1] for key, p in probed.items()}
        offsets = {key: receptive_field_offsets(self.network(key), strides[key],
                                                self.probe_input_shape[0]
                                                if self.probe_input_shape else 3)
                   for key in shapes}
        self.pairs = list(pairs)
        # One generator for every pair's location sampling, saved in the state dict (see
        # get_extra_state) so a resumed run draws the same locations as an uninterrupted one.
        self.sample_generator = torch.Generator().manual_seed(torch.initial_seed() % 2**63)
        losses = []
        for pair in self.pairs:
            (s_net, s_feat), (t_net, t_feat) = pair.student, pair.target
            cfg = dict(copy.deepcopy(self.loss_cfg),
                       student_channels=shapes[s_net][s_feat][0],
                       target_channels=shapes[t_net][t_feat][0])
            cfg = adapt_loss_cfg(cfg)
            if cfg['type'] in PAIR_LOSS_TYPES:
                cfg['generator'] = self.sample_generator
                cfg['strides'] = (strides[s_net][s_feat], strides[t_net][t_feat])
                if None not in cfg['strides']:
                    cfg['offsets'] = (offsets[s_net][s_feat], offsets[t_net][t_feat])
                    if None in cfg['offsets']:
                        cfg.pop('offsets')
                else:
                    cfg['strides'] = None
            losses.append(MODELS.build(cfg))
        self.pair_losses = nn.ModuleList(losses)
        names = {type(m).name for m in losses}
        self.loss_key = f'loss_{names.pop()}' if len(names) == 1 else 'loss_distill'

    def get_extra_state(self) -> torch.Tensor:
        # A plain tensor: DDP broadcasts every state_dict value at start-up.
        gen = self.__dict__.get('sample_generator')
        return gen.get_state() if gen is not None else torch.zeros(0, dtype=torch.uint8)

    def set_extra_state(self, state) -> None:
        gen = self.__dict__.get('sample_generator')
        if gen is not None and isinstance(state, torch.Tensor) and state.numel():
            gen.set_state(state.to('cpu', torch.uint8))

    def __getattr__(self, name: str):
        # Hooks written for plain detectors reach into the model (e.g. YOLOX's mode switch sets
        # `model.bbox_head.use_l1`); let them find the wrapped architecture's attributes.
        try:
            return super().__getattr__(name)
        except AttributeError:
            arch = self.__dict__.get('_modules', {}).get(ARCHITECTURE)
            if arch is None or name.startswith('__'):
                raise
            return getattr(arch, name)

    # ----------------------------------------------------------------- forward
    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.architecture(inputs, data_samples, mode='tensor')
        raise RuntimeError(f'invalid mode "{mode}": use "loss", "predict" or "tensor"')

    def predict(self, inputs, data_samples=None):
        return self.architecture(inputs, data_samples, mode='predict')

    def extract_feat(self, inputs):
        return self.architecture.extract_feat(inputs)

    def loss(self, inputs, data_samples) -> dict:
        """The architecture's own losses plus the distillation loss and its logged terms."""
        self.finite_watch.clear()
        with self.recorders[ARCHITECTURE] as rec:
            losses = task_losses(self.architecture.loss(inputs, data_samples))
            features = {(ARCHITECTURE, n): rec.get(n) for n in rec.names}
        features.update(self.extra_features(inputs, data_samples, losses))
        distill = self.distill_losses(features, image_shapes(data_samples))
        if self.grad_stats_due():
            distill.update(self.grad_ratios(losses, distill[self.loss_key], features))
        losses.update(distill)
        return losses

    def raise_if_features_non_finite(self) -> None:
        """Raise the one-line error naming the iteration and the pair whose feature of the last
        step held NaN/Inf; nothing if all were finite. Reads the device once: MUSEHook calls it
        only when the step's loss (already read by the logger) is non-finite."""
        bad = self.finite_watch.first_non_finite()
        if bad is None:
            return
        key, kind, shape = bad
        pair = next((p for p in self.pairs if key in (p.student, p.target)), None)
        if pair is None:  # e.g. peers' logits
            raise ValueError(_iteration() + non_finite_message(key, kind, shape))
        side = 'student' if key == pair.student else 'target'
        raise ValueError(f'{_iteration()}pair {feature_label(*pair.student)} -> '
                         f'{feature_label(*pair.target)}: {non_finite_message(side, kind, shape)}')

    def grad_stats_due(self) -> bool:
        """True every ``grad_stats_interval`` training iterations (read from the message hub)."""
        if not self.grad_stats_interval or not self.training or not self.distill_active:
            return False
        iteration = MessageHub.get_current_instance().get_info('iter')
        return iteration is not None and iteration % self.grad_stats_interval == 0

    def grad_ratios(self, task_losses: dict, distill_loss: torch.Tensor,
                    features: Dict[Tuple[str, str], torch.Tensor]) -> dict:
        """``grad_ratio/<student>`` = ||dL_distill/dF|| / ||dL_task/dF|| for every student feature
        F: whether distillation overpowers the task on that layer (> 1) or whispers (<< 1).

        One extra backward of the task loss down to the recorded features (nothing accumulates
        into parameter gradients); L_task sums the architecture's ``loss*`` entries, as
        MMEngine's ``parse_losses`` does.
        """
        task = sum(_loss_sum(v) for k, v in task_losses.items() if 'loss' in k)
        keys = list(dict.fromkeys(p.student for p in self.pairs))
        keys = [k for k in keys if features[k].requires_grad]
        if not keys or not torch.is_tensor(task) or not task.requires_grad:
            return {}
        inputs = [features[k] for k in keys]
        g_task = torch.autograd.grad(task, inputs, retain_graph=True, allow_unused=True)
        g_dist = torch.autograd.grad(distill_loss, inputs, retain_graph=True, allow_unused=True)
        out = {}
        for key, gt, gd in zip(keys, g_task, g_dist):
            norm_t = gt.detach().norm() if gt is not None else inputs[0].new_zeros(())
            norm_d = gd.detach().norm() if gd is not None else inputs[0].new_zeros(())
            out[f'grad_ratio/{feature_label(*key)}'] = norm_d / norm_t.clamp(min=1e-12)
        return out

    def extra_features(self, inputs, data_samples, losses: dict) -> dict:
        """Features of networks other than the architecture (peers, teachers)."""
        return {}

    @property
    def distill_active(self) -> bool:
        return self.distill_weight_scale > 0

    def distill_losses(self, features: Dict[Tuple[str, str], torch.Tensor],
                       img_shapes: Optional[List[Tuple[int, int]]] = None) -> dict:
        """Pair-weighted mean of the pair losses as ``loss_<method>`` plus per-pair/per-layer
        terms: ``sum_p w_p L_p / sum_p w_p``, so ``loss_weight`` means the same whatever the
        number of recorded features. ``img_shapes``: each image's unpadded (h, w), so padding
        is never sampled.

        Returns:
            ``{'loss_<method>': scalar, '<term>/<student>--<target>': scalar, ...,
            'entropy/<student>': scalar}`` where terms are the pair losses' logged values.
        """
        out: Dict[str, torch.Tensor] = {}
        if not self.distill_active:
            # Keeps the graph's parameter set constant (DDP) at no cost.
            out[self.loss_key] = sum(p.sum() for p in self.pair_losses.parameters()) * 0.0
            return out
        for key in dict.fromkeys(end for pair in self.pairs for end in (pair.student, pair.target)):
            self.finite_watch.record(key, features[key])
        total = 0.0
        entropies: Dict[str, List[torch.Tensor]] = {}
        for pair, pair_loss in zip(self.pairs, self.pair_losses):
            s_label = feature_label(*pair.student)
            t_label = feature_label(*pair.target)
            try:
                result = pair_loss(features[pair.student], features[pair.target], img_shapes,
                                   check_finite=False)
            except ValueError as e:
                raise ValueError(f'{_iteration()}pair {s_label} -> {t_label}: {e}') from None
            total = total + pair.weight * result['loss']
            for term, value in result.items():
                if term == 'loss':
                    continue
                if term == 'entropy':
                    entropies.setdefault(s_label, []).append(value.detach())
                else:
                    out[f'{term}/{s_label}--{t_label}'] = value.detach()
        for label, values in entropies.items():
            out[f'entropy/{label}'] = torch.stack(values).mean()
        weight_sum = sum(pair.weight for pair in self.pairs)
        out[self.loss_key] = total * (self.distill_weight_scale / max(weight_sum, 1e-12))
        return out


def parse_pairs(pairs, features: Sequence[str], net: str = ARCHITECTURE,
                target_net: Optional[str] = None,
                target_features: Optional[Sequence[str]] = None) -> List[FeaturePair]:
    """Normalise the ``pairs`` option.

    ``None``: every feature but the last is taught by the last (the deepest). Otherwise a list
    of ``(student, target)`` tuples or ``dict(student=..., target=..., weight=...)``.
    """
    target_net = target_net or net
    target_features = features if target_features is None else target_features
    if pairs is None:
        if len(features) < 2:
            raise ValueError(
                f'self-distillation needs at least 2 features (shallow ones taught by the '
                f'deepest), got {list(features)}; list more in `features`, or set `pairs`.')
        return [FeaturePair((net, f), (target_net, features[-1])) for f in features[:-1]]
    result = []
    for i, p in enumerate(pairs):
        if isinstance(p, dict):
            unknown = set(p) - {'student', 'target', 'weight'}
            if unknown or not {'student', 'target'} <= set(p):
                raise ValueError(f'pairs[{i}] = {p!r}: a pair dict needs keys "student" and '
                                 f'"target" (and optionally "weight"); got {sorted(p)}')
            s, t, w = p['student'], p['target'], p.get('weight', 1.0)
        elif isinstance(p, (tuple, list)) and len(p) in (2, 3):
            s, t, w = (*p, 1.0) if len(p) == 2 else p
        else:
            raise ValueError(f'pairs[{i}] = {p!r}: give (student, target), '
                             f'(student, target, weight) or dict(student=, target=, weight=)')
        for end, known, what in ((s, features, 'features'),
                                 (t, target_features, 'features' if target_net == net
                                  else f'{target_net}_features')):
            if end not in known:
                raise ValueError(f'pairs[{i}] uses {end!r}, which is not in `{what}` '
                                 f'{list(known)}; add it to `{what}`.')
        result.append(FeaturePair((net, s), (target_net, t),
                                  _check_weight(w, f'pairs[{i}] weight')))
    return result


def normalise_features(features) -> List[str]:
    if isinstance(features, str):
        features = [features]
    features = list(features)
    for f in features:
        FeatureSpec.parse(f)
    if len(set(features)) != len(features):
        raise ValueError(f'`features` lists a name twice: {features}')
    return features
