"""The machinery every distiller shares: networks with recorders, feature pairs
and their losses.

A distiller is an ordinary ``BaseModel`` that owns the recorded network(s) and
one pair loss per (student feature, target feature) pair. Adapters and critics
live inside the pair losses, so DDP, optimisers, EMA and checkpoints see them.
``loss()`` returns the wrapped model's own loss dict plus ``loss_<method>``;
``predict()`` and ``tensor`` mode are the wrapped model's.
"""
import copy
import difflib
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from torch import nn

from muse_det.information.finite_watch import FiniteWatch, non_finite_message
from muse_det.information.validation import check_positive_int
from muse_det.registry import MODELS
from ..losses import PAIR_LOSS_TYPES, build_distill_loss, check_loss_cfg
from ..recorders import FeatureRecorder, default_features
from ..recorders.feature_geometry import FeatureGeometry, measure_geometry
from .feature_pairs import ARCHITECTURE, FeaturePair, feature_label
from .grad_balance import gradient_ratios, total_task_loss
from .isolated_rng import isolated_rng

# What hooks written for plain detectors and classifiers read from
# ``runner.model`` (e.g. YOLOX's mode switch sets ``model.bbox_head.use_l1``,
# DINO-style hooks call ``model.set_epoch``): found on the wrapped
# architecture. Anything else missing from the distiller is an error, so a
# typo is not silently answered by the wrapped model.
FORWARDED_ATTRIBUTES = frozenset({
    'backbone', 'neck', 'bbox_head', 'rpn_head', 'roi_head', 'mask_head',
    'semantic_head', 'panoptic_head', 'panoptic_fusion_head', 'head',
    'train_cfg', 'test_cfg', 'with_neck', 'with_rpn', 'with_roi_head',
    'with_bbox', 'with_mask', 'with_shared_head', 'with_semantic', 'with_head',
    'set_epoch', 'dataset_meta'
})


def _iteration() -> str:
    """``'iteration <i>, '`` of the running training loop for error messages
    (``''`` outside one): MMEngine's message hub has it."""
    iteration = MessageHub.get_current_instance().get_info('iter')
    return '' if iteration is None else f'iteration {iteration}, '


def image_shapes(data_samples) -> Optional[List[Tuple[int, int]]]:
    """Each sample's unpadded ``img_shape`` (h, w), or None where any
    sample lacks one."""
    if not data_samples:
        return None
    shapes = [
        getattr(ds, 'metainfo', {}).get('img_shape') for ds in data_samples
    ]
    return None if any(s is None
                       for s in shapes) else [tuple(s[:2]) for s in shapes]


def gt_boxes(data_samples) -> Optional[List[torch.Tensor]]:
    """Each detection sample's ground-truth boxes [n_i, 4] (x1, y1, x2, y2,
    input pixels), or None where any sample has none (classification)."""
    boxes = [
        getattr(getattr(ds, 'gt_instances', None), 'bboxes', None)
        for ds in data_samples or ()
    ]
    if not boxes or any(b is None for b in boxes):
        return None
    # mmdet may hold them as a box type (HorizontalBoxes)
    return [getattr(b, 'tensor', b) for b in boxes]


def task_losses(losses: dict) -> dict:
    """A wrapped network's own losses, for the log. mmpretrain's heads call
    theirs ``loss``, the name mmengine gives the total (the log would show one
    in place of the other): it becomes ``loss_cls``, as mmdet names
    classification losses."""
    losses = dict(losses)
    if 'loss' in losses:
        losses['loss_cls'] = losses.pop('loss')
    return losses


def share_target_adapters(pairs: Sequence[FeaturePair],
                          losses: Sequence[nn.Module]) -> List[nn.Module]:
    """One ``target_adapter`` for the pair losses that ask for it
    (``share_target_adapter``) and are taught by the same target feature.

    Each group of two or more such losses gets its first member's adapter as
    a plain reference (not a registered child), and the adapter is returned
    for the distiller to register once: a module registered under several
    parents would put its parameters in the optimiser's groups (and the
    checkpoint) once per parent.

    Args:
        pairs: the feature pairs, in the order of ``losses``.
        losses: one built pair loss per pair; changed in place.

    Returns:
        list[nn.Module]: the shared adapters, one per shared target.
    """
    groups: Dict[Tuple[str, str], List[nn.Module]] = {}
    for pair, loss in zip(pairs, losses):
        if getattr(loss, 'share_target_adapter', False):
            groups.setdefault(pair.target, []).append(loss)
    shared = []
    for target, group in groups.items():
        if len(group) < 2:
            continue
        adapter = group[0].target_adapter
        for loss in group[1:]:
            if repr(loss.target_adapter) != repr(adapter):
                raise ValueError(
                    f'pairs taught by {feature_label(*target)} build '
                    f'different target adapters ({adapter} and '
                    f'{loss.target_adapter}); set share_target_adapter=False'
                    ' in the loss config to keep one per pair')
        for loss in group:
            # the others were built (from the isolated stream) and are
            # dropped, so no other module's initial weights depend on sharing
            del loss._modules['target_adapter']
            object.__setattr__(loss, 'target_adapter', adapter)
        shared.append(adapter)
    return shared


def build_network(cfg) -> nn.Module:
    """Build a network from a config dict, or take an ``nn.Module`` as is."""
    if isinstance(cfg, nn.Module):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(
            'a network config must be a dict with a "type" key (e.g. the '
            f'detector config `_base_.model`), got {type(cfg).__name__}')
    return MODELS.build(copy.deepcopy(cfg))


class BaseDistiller(BaseModel):
    """Shared logic of the self-, online- and offline distillers.

    Subclasses register their networks with :meth:`add_network`, then call
    :meth:`build_pairs`. The data preprocessor is the wrapped architecture's
    own (a top-level ``data_preprocessor`` of an mmpretrain config is given to
    it), so the distiller sees exactly the batches the plain model would.

    Args:
        architecture: config (or module) of the trained model,
            e.g. ``_base_.model``.
        loss: config of the pair loss (``MUSELoss`` or a baseline such as
            ``'l2'``), built once per pair with
            ``student_channels``/``target_channels`` from the probed features.
        recorder_clone: copy recorded outputs (only for models that
            modify them in place).
        probe_input_shape: (C, H, W) of the zero input run once at
            construction to measure feature shapes; ``None``: a size the
            model's configuration implies, doubled while the model fails on it
            (see :mod:`muse_det.models.recorders.shape_probe`).
        grad_stats_interval: every that many training iterations, log
            ``grad_ratio/<student feature>`` (see :meth:`grad_ratios`); None
            (default): never.
    """

    def __init__(self,
                 architecture: Union[dict, nn.Module],
                 loss: dict,
                 recorder_clone: bool = False,
                 probe_input_shape: Optional[Sequence[int]] = None,
                 grad_stats_interval: Optional[int] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None):
        if (isinstance(data_preprocessor, dict)
                and isinstance(architecture, dict)
                and 'data_preprocessor' not in architecture):
            # mmpretrain configs keep the classifier's data preprocessor at the
            # top level, and the Runner hands it to the outermost model: it
            # belongs to the wrapped network.
            architecture = dict(
                architecture, data_preprocessor=data_preprocessor)
            data_preprocessor = None
        arch = build_network(architecture)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if data_preprocessor is None and hasattr(arch, 'data_preprocessor'):
            self.data_preprocessor = arch.data_preprocessor
        self.architecture = arch
        if not isinstance(loss, dict) or 'type' not in loss:
            raise ValueError(
                f'`loss` must be a config dict with a "type" key, e.g. '
                f'dict(type="MUSELoss"), got {loss!r}')
        self.loss_cfg = check_loss_cfg(dict(loss))
        self.recorder_clone = recorder_clone
        self.probe_input_shape = None if probe_input_shape is None else tuple(
            probe_input_shape)
        # Scaled by MUSEHook (warm-up, stop after an epoch); plain
        # floats, not state.
        self.distill_weight_scale = 1.0
        # NaN/Inf of this step's features, kept on the device; read only once
        # the step's loss is non-finite (raise_if_features_non_finite), so a
        # healthy step never syncs for it.
        self.finite_watch = FiniteWatch()
        if grad_stats_interval is not None:
            check_positive_int(grad_stats_interval, 'grad_stats_interval')
        self.grad_stats_interval = grad_stats_interval
        self._network_keys: List[str] = []
        self.recorders: Dict[str, FeatureRecorder] = {}
        self.pairs: List[FeaturePair] = []
        self.add_network(ARCHITECTURE, [])

    # -----------------------------------------------------------------
    # building
    def add_network(self, key: str, features: Sequence[str]) -> None:
        if key not in self._network_keys:
            self._network_keys.append(key)
        self.recorders[key] = FeatureRecorder(
            getattr(self, key), list(features), clone=self.recorder_clone)

    def network(self, key: str) -> nn.Module:
        return getattr(self, key)

    def default_features(self, key: str) -> List[str]:
        """See :func:`muse_det.models.recorders.default_features`."""
        return default_features(self.network(key), self.probe_input_shape)

    def measure_geometry(self, key: str) -> Dict[str, FeatureGeometry]:
        """Shape, stride and receptive-field offset of every recorded
        feature of ``key``."""
        return measure_geometry(
            self.network(key), self.recorders[key], self.probe_input_shape)

    def build_pairs(self, pairs: Sequence[FeaturePair]) -> None:
        """Build one pair loss per pair from the measured geometry of its
        two features."""
        geometry = {
            key: self.measure_geometry(key)
            for key in self._network_keys if self.recorders[key].names
        }
        self.pairs = list(pairs)
        # One generator for every pair's location sampling, saved in the state
        # dict (see get_extra_state) so a resumed run draws the same locations
        # as an uninterrupted one.
        self.sample_generator = torch.Generator().manual_seed(
            torch.initial_seed() % 2**63)
        losses = []
        # adapters and critics draw their initial weights from a stream of
        # their own, so the wrapped model's init_weights() draws what it
        # draws in a plain run of the same seed
        with isolated_rng('pair_losses'):
            for pair in self.pairs:
                student = geometry[pair.student[0]][pair.student[1]]
                target = geometry[pair.target[0]][pair.target[1]]
                filled = dict(
                    student_channels=student.shape[0],
                    target_channels=target.shape[0])
                if self.loss_cfg['type'] in PAIR_LOSS_TYPES:
                    filled.update(self.pair_geometry_options(student, target))
                losses.append(
                    build_distill_loss(copy.deepcopy(self.loss_cfg), **filled))
        self.pair_losses = nn.ModuleList(losses)
        # the adapters pairs taught by one target share (registered here,
        # once; the losses hold references)
        self.target_adapters = nn.ModuleList(
            share_target_adapters(self.pairs, losses))
        names = {type(m).name for m in losses}
        self.loss_key = f'loss_{names.pop()}' if len(
            names) == 1 else 'loss_distill'

    def pair_geometry_options(self, student: FeatureGeometry,
                              target: FeatureGeometry) -> dict:
        """What a registered pair loss is told of its features: the shared
        sampling generator, both strides (None for vectors) and, where both
        were measured, the offsets."""
        options = dict(generator=self.sample_generator, strides=None)
        if student.stride is not None and target.stride is not None:
            options['strides'] = (student.stride, target.stride)
            if student.offset is not None and target.offset is not None:
                options['offsets'] = (student.offset, target.offset)
        return options

    def get_extra_state(self) -> torch.Tensor:
        # A plain tensor: DDP broadcasts every state_dict value at start-up.
        gen = self.__dict__.get('sample_generator')
        return gen.get_state() if gen is not None else torch.zeros(
            0, dtype=torch.uint8)

    def set_extra_state(self, state) -> None:
        gen = self.__dict__.get('sample_generator')
        if gen is not None and isinstance(state,
                                          torch.Tensor) and state.numel():
            gen.set_state(state.to('cpu', torch.uint8))

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            pass
        arch = self.__dict__.get('_modules', {}).get(ARCHITECTURE)
        if arch is not None and name in FORWARDED_ATTRIBUTES and hasattr(
                arch, name):
            return getattr(arch, name)
        candidates = set(dir(self)) | {
            n
            for n in FORWARDED_ATTRIBUTES
            if arch is not None and hasattr(arch, n)
        }
        close = difflib.get_close_matches(name, sorted(candidates), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ''
        raise AttributeError(
            f"'{type(self).__name__}' object has no attribute '{name}'"
            f'{hint} (of the wrapped model it forwards only '
            f'{", ".join(sorted(FORWARDED_ATTRIBUTES))}; the rest is '
            f"'.{ARCHITECTURE}.{name}')")

    # ----------------------------------------------------------------- forward
    def forward(self,
                inputs: torch.Tensor,
                data_samples=None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.architecture(inputs, data_samples, mode='tensor')
        raise RuntimeError(
            f'invalid mode "{mode}": use "loss", "predict" or "tensor"')

    def predict(self, inputs, data_samples=None):
        return self.architecture(inputs, data_samples, mode='predict')

    def extract_feat(self, inputs):
        return self.architecture.extract_feat(inputs)

    def loss(self, inputs, data_samples) -> dict:
        """The architecture's own losses plus the distillation loss and its
        logged terms."""
        self.finite_watch.clear()
        with self.recorders[ARCHITECTURE] as rec:
            losses = task_losses(self.architecture.loss(inputs, data_samples))
            features = {(ARCHITECTURE, n): rec.get(n) for n in rec.names}
        other_features, other_losses = self.forward_other_networks(
            inputs, data_samples)
        features.update(other_features)
        losses.update(other_losses)
        distill = self.distill_losses(features, image_shapes(data_samples),
                                      gt_boxes(data_samples))
        if self.grad_stats_due():
            distill.update(
                self.grad_ratios(losses, distill[self.loss_key], features))
        losses.update(distill)
        return losses

    def raise_if_features_non_finite(self) -> None:
        """Raise the one-line error naming the iteration and the pair whose
        feature of the last step held NaN/Inf; nothing if all were finite.
        Reads the device once: MUSEHook calls it only when the step's loss
        (already read by the logger) is non-finite."""
        bad = self.finite_watch.first_non_finite()
        if bad is None:
            return
        key, kind, shape = bad
        pair = next((p for p in self.pairs if key in (p.student, p.target)),
                    None)
        if pair is None:  # e.g. peers' logits
            raise ValueError(_iteration() +
                             non_finite_message(key, kind, shape))
        side = 'student' if key == pair.student else 'target'
        raise ValueError(
            f'{_iteration()}pair {feature_label(*pair.student)} -> '
            f'{feature_label(*pair.target)}: '
            f'{non_finite_message(side, kind, shape)}')

    def grad_stats_due(self) -> bool:
        """True every ``grad_stats_interval`` training iterations
        (read from the message hub)."""
        if (not self.grad_stats_interval or not self.training
                or not self.distill_active):
            return False
        iteration = MessageHub.get_current_instance().get_info('iter')
        return (iteration is not None
                and iteration % self.grad_stats_interval == 0)

    def grad_ratios(self, task_losses: dict, distill_loss: torch.Tensor,
                    features: Dict[Tuple[str, str], torch.Tensor]) -> dict:
        """``grad_ratio/<student>`` for every student feature (see
        :func:`~.grad_balance.gradient_ratios`); L_task sums the architecture's
        ``loss*`` entries of every network (a peer's feature gets its task
        gradient from the peer's own losses)."""
        students = {
            feature_label(*key): features[key]
            for key in dict.fromkeys(p.student for p in self.pairs)
        }
        ratios = gradient_ratios(
            total_task_loss(task_losses), distill_loss, students)
        return {
            f'grad_ratio/{label}': value
            for label, value in ratios.items()
        }

    def forward_other_networks(self, inputs,
                               data_samples) -> Tuple[dict, dict]:
        """Run the networks other than the architecture (peers, teachers):
        their recorded features ``{(network key, name): tensor}`` and their own
        losses, prefixed."""
        return {}, {}

    @property
    def distill_active(self) -> bool:
        return self.distill_weight_scale > 0

    def distill_losses(self,
                       features: Dict[Tuple[str, str], torch.Tensor],
                       img_shapes: Optional[List[Tuple[int, int]]] = None,
                       boxes: Optional[List[torch.Tensor]] = None) -> dict:
        """Pair-weighted mean of the pair losses as ``loss_<method>`` plus
        per-pair/per-layer terms: ``sum_p w_p L_p / sum_p w_p``, so
        ``loss_weight`` means the same whatever the number of recorded
        features. ``img_shapes``: each image's unpadded (h, w), so padding
        is never sampled; ``boxes``: each image's ground-truth boxes (for the
        losses' ``box_weight``).

        Returns:
            ``{'loss_<method>': scalar, '<term>/<student>--<target>':
            scalar, ..., 'entropy/<student>': scalar}`` where terms are the
            pair losses' logged values.
        """
        out: Dict[str, torch.Tensor] = {}
        if not self.distill_active:
            # Keeps the graph's parameter set constant (DDP) at no cost.
            out[self.loss_key] = sum(
                p.sum() for m in (self.pair_losses, self.target_adapters)
                for p in m.parameters()) * 0.0
            return out
        for key in dict.fromkeys(
                end for pair in self.pairs
                for end in (pair.student, pair.target)):
            self.finite_watch.record(key, features[key])
        total = 0.0
        entropies: Dict[str, List[torch.Tensor]] = {}
        draws: dict = {}  # pairs sampling the same grid share one draw
        for pair, pair_loss in zip(self.pairs, self.pair_losses):
            s_label = feature_label(*pair.student)
            t_label = feature_label(*pair.target)
            try:
                result = pair_loss(
                    features[pair.student],
                    features[pair.target],
                    img_shapes,
                    check_finite=False,
                    draws=draws,
                    boxes=boxes)
            except ValueError as e:
                raise ValueError(
                    f'{_iteration()}pair {s_label} -> {t_label}: {e}'
                ) from None
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
        out[self.loss_key] = total * (
            self.distill_weight_scale / max(weight_sum, 1e-12))
        return out
