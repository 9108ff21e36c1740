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
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import MessageHub, print_log
from mmengine.model import BaseModel
from torch import nn

from muse_det.information.finite_watch import FiniteWatch, non_finite_message
from muse_det.information.validation import check_positive_int
from muse_det.registry import MODELS
from ..losses import PAIR_LOSS_TYPES, build_distill_loss, check_loss_cfg
from ..recorders import FeatureRecorder, default_features
from ..recorders.feature_geometry import FeatureGeometry, measure_geometry
from .feature_pairs import (ARCHITECTURE, FeaturePair, feature_label,
                            frozen_students)
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
    """Each sample's unpadded ``img_shape`` ``(h, w)``.

    Args:
        data_samples (Sequence[BaseDataElement] | None): the batch's data
            samples, one per image; ``metainfo['img_shape']`` is read.

    Returns:
        list[tuple[int, int]] | None: one ``(h, w)`` per image, in input
        pixels; None if there are no samples or any sample lacks an
        ``img_shape``.
    """
    if not data_samples:
        return None
    shapes = [
        getattr(ds, 'metainfo', {}).get('img_shape') for ds in data_samples
    ]
    return None if any(s is None
                       for s in shapes) else [tuple(s[:2]) for s in shapes]


def gt_boxes(data_samples) -> Optional[List[torch.Tensor]]:
    """Each detection sample's ground-truth boxes.

    Args:
        data_samples (Sequence[DetDataSample] | None): the batch's data
            samples; ``gt_instances.bboxes`` is read (a tensor or an mmdet
            box type such as ``HorizontalBoxes``).

    Returns:
        list[Tensor] | None: per image, boxes of shape (n_i, 4) as
        ``(x1, y1, x2, y2)`` in input pixels; None if there are no samples
        or any sample has no ``gt_instances.bboxes`` (classification).
    """
    boxes = [
        getattr(getattr(ds, 'gt_instances', None), 'bboxes', None)
        for ds in data_samples or ()
    ]
    if not boxes or any(b is None for b in boxes):
        return None
    # mmdet may hold them as a box type (HorizontalBoxes)
    return [getattr(b, 'tensor', b) for b in boxes]


def task_losses(losses: dict) -> dict:
    """A wrapped network's own losses, renamed for the log.

    mmpretrain's heads call theirs ``loss``, the name MMEngine gives the
    total (the log would show one in place of the other): it becomes
    ``loss_cls``, as mmdet names classification losses.

    Args:
        losses (dict[str, Tensor | list[Tensor]]): the network's ``loss()``
            output.

    Returns:
        dict[str, Tensor | list[Tensor]]: a copy of ``losses`` with ``loss``
        renamed ``loss_cls``; every other key unchanged.
    """
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
        pairs (Sequence[FeaturePair]): the feature pairs, in the order of
            ``losses``.
        losses (Sequence[nn.Module]): one built pair loss per pair; changed
            in place.

    Returns:
        list[nn.Module]: the shared adapters, one per shared target (empty
        when no two such losses share a target).

    Raises:
        ValueError: losses of one target built different adapters (compared
            by ``repr``).
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
    """Build a network from a config dict, or take an ``nn.Module`` as is.

    Args:
        cfg (dict | nn.Module): a model config with a ``type`` key (e.g. the
            detector config's ``_base_.model``; a deep copy is built with
            ``MODELS``), or a built module.

    Returns:
        nn.Module: the network.

    Raises:
        ValueError: ``cfg`` is neither a module nor a dict with ``type``.
    """
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
        architecture (dict | nn.Module): config (or module) of the trained
            model, e.g. ``_base_.model``.
        loss (dict): config of the pair loss (``dict(type='MUSELoss', ...)``
            or a baseline such as ``dict(type='l2')``), built once per pair
            with ``student_channels``/``target_channels`` (and, for the pair
            losses, the sampling generator, strides and offsets) from the
            probed features.
        recorder_clone (bool): copy recorded outputs (only for models that
            modify them in place). Defaults to False.
        probe_input_shape (Sequence[int], optional): ``(C, H, W)`` of the
            zero input run once at construction to measure feature shapes;
            ``None``: a size the model's configuration implies, doubled while
            the model fails on it (see
            :mod:`muse_det.models.recorders.shape_probe`). Defaults to None.
        grad_stats_interval (int, optional): every that many training
            iterations, log ``grad_ratio/<student feature>`` (see
            :meth:`grad_ratios`); None: never. Defaults to None.
        init_cfg (dict, optional): MMEngine's ``init_cfg`` of the distiller.
            Defaults to None.
        data_preprocessor (dict, optional): None: the architecture's own
            preprocessor is used. A dict while ``architecture`` is a config
            without a ``data_preprocessor`` (mmpretrain configs keep it at
            the top level) is moved into ``architecture``; otherwise it
            builds the distiller's preprocessor. Defaults to None.

    Raises:
        ValueError: ``loss`` is not a config dict with a ``type``, or
            ``grad_stats_interval`` is not a positive int.
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
        # the first training step looks for students no gradient reaches
        self._students_checked = False
        self._network_keys: List[str] = []
        self.recorders: Dict[str, FeatureRecorder] = {}
        self.pairs: List[FeaturePair] = []
        self.add_network(ARCHITECTURE, [])

    # -----------------------------------------------------------------
    # building
    def add_network(self, key: str, features: Sequence[str]) -> None:
        """Register the network at attribute ``key`` and record its
        ``features``.

        Called again for the same key, the recorder is replaced (the key
        keeps its place).

        Args:
            key (str): the distiller attribute holding the network
                (``'architecture'``, ``'teacher'``, ``'peer<i>'``); set
                before this call.
            features (Sequence[str]): feature names to record (see
                :class:`~muse_det.models.recorders.FeatureSpec`); may be
                empty.
        """
        if key not in self._network_keys:
            self._network_keys.append(key)
        self.recorders[key] = FeatureRecorder(
            getattr(self, key), list(features), clone=self.recorder_clone)

    def network(self, key: str) -> nn.Module:
        """The network registered under ``key``.

        Args:
            key (str): a network key, e.g. ``'architecture'``.

        Returns:
            nn.Module: the network.
        """
        return getattr(self, key)

    def default_features(self, key: str) -> List[str]:
        """The features recorded when none are configured (see
        :func:`muse_det.models.recorders.default_features`).

        Args:
            key (str): the network key.

        Returns:
            list[str]: at least two feature names, e.g.
            ``['backbone.layer1', ..., 'backbone.layer4']``.
        """
        return default_features(self.network(key), self.probe_input_shape)

    def measure_geometry(self, key: str) -> Dict[str, FeatureGeometry]:
        """Shape, stride and receptive-field offset of every recorded
        feature of a network (one probe forward on zeros).

        Args:
            key (str): the network key.

        Returns:
            dict[str, FeatureGeometry]: feature name -> its geometry.
        """
        return measure_geometry(
            self.network(key), self.recorders[key], self.probe_input_shape)

    def build_pairs(self, pairs: Sequence[FeaturePair]) -> None:
        """Build one pair loss per pair from the measured geometry of its
        two features.

        Sets ``pairs``, ``pair_losses`` (one per pair), ``target_adapters``
        (the adapters shared by pairs of one target), ``sample_generator``
        and ``loss_key`` (``loss_<method>``, e.g. ``loss_muse``). Adapters
        and critics draw their initial weights from a random stream of
        their own.

        Args:
            pairs (Sequence[FeaturePair]): the pairs; both ends are recorded
                features of registered networks.

        Raises:
            ValueError: pairs of one target that share an adapter build
                different ones (see :func:`share_target_adapters`).
        """
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
        """What a registered pair loss is told of its features.

        Args:
            student (FeatureGeometry): the student feature's geometry.
            target (FeatureGeometry): the target feature's geometry.

        Returns:
            dict: ``generator`` (the shared sampling generator), ``strides``
            (``(S_s, S_t)`` in input pixels; None unless both features are
            maps) and, where both offsets were measured, ``offsets``
            (``((dy_s, dx_s), (dy_t, dx_t))``).
        """
        options = dict(generator=self.sample_generator, strides=None)
        if student.stride is not None and target.stride is not None:
            options['strides'] = (student.stride, target.stride)
            if student.offset is not None and target.offset is not None:
                options['offsets'] = (student.offset, target.offset)
        return options

    def get_extra_state(self) -> torch.Tensor:
        """The location-sampling generator's state, kept in the state dict
        so a resumed run draws the same locations as an uninterrupted one.

        Returns:
            Tensor: the generator's state, 1-D uint8; an empty uint8 tensor
            before :meth:`build_pairs`.
        """
        # A plain tensor: DDP broadcasts every state_dict value at start-up.
        gen = self.__dict__.get('sample_generator')
        return gen.get_state() if gen is not None else torch.zeros(
            0, dtype=torch.uint8)

    def set_extra_state(self, state) -> None:
        """Restore the sampling generator's state saved by
        :meth:`get_extra_state`.

        Args:
            state (Tensor): the saved state, 1-D uint8; an empty tensor or a
                non-tensor is ignored, as is any state before
                :meth:`build_pairs`.
        """
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
        """Dispatch on ``mode``, as MMEngine's ``BaseModel.forward``.

        Args:
            inputs (Tensor): the preprocessed images, shape (B, 3, H, W).
            data_samples (list, optional): the batch's data samples, one per
                image. Defaults to None.
            mode (str): ``'loss'`` (:meth:`loss`), ``'predict'``
                (:meth:`predict`) or ``'tensor'`` (the architecture's raw
                outputs). Defaults to ``'tensor'``.

        Returns:
            dict | list | tuple | Tensor: the losses, the data samples with
            predictions, or the architecture's ``tensor``-mode output.

        Raises:
            RuntimeError: an unknown ``mode``.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.architecture(inputs, data_samples, mode='tensor')
        raise RuntimeError(
            f'invalid mode "{mode}": use "loss", "predict" or "tensor"')

    def predict(self, inputs, data_samples=None):
        """The architecture's predictions; distillation adds nothing.

        Args:
            inputs (Tensor): the preprocessed images, shape (B, 3, H, W).
            data_samples (list, optional): one data sample per image.
                Defaults to None.

        Returns:
            list: the data samples with the architecture's predictions
            (``pred_instances`` of a detector, ``pred_score`` and
            ``pred_label`` of a classifier).
        """
        return self.architecture(inputs, data_samples, mode='predict')

    def extract_feat(self, inputs):
        """The architecture's ``extract_feat``.

        Args:
            inputs (Tensor): the preprocessed images, shape (B, 3, H, W).

        Returns:
            tuple[Tensor] | Tensor: what the architecture returns, e.g. a
            detector's neck outputs, each (B, C, H_i, W_i).
        """
        return self.architecture.extract_feat(inputs)

    def loss(self, inputs, data_samples) -> dict:
        """The architecture's own losses plus the distillation loss and its
        logged terms.

        Records the architecture's features during its own ``loss()``, runs
        the other networks (:meth:`forward_other_networks`), then the pair
        losses (:meth:`distill_losses`).

        Args:
            inputs (Tensor): the preprocessed images, shape (B, 3, H, W).
            data_samples (list): the batch's data samples with their
                annotations, one per image.

        Returns:
            dict[str, Tensor | list[Tensor]]: the architecture's losses (an
            mmpretrain ``loss`` renamed ``loss_cls``), the other networks'
            (prefixed), ``loss_<method>`` and its logged terms (see
            :meth:`distill_losses`) and, when due,
            ``grad_ratio/<student>`` (see :meth:`grad_ratios`).
        """
        self.finite_watch.clear()
        with self.recorders[ARCHITECTURE] as rec:
            losses = task_losses(self.architecture.loss(inputs, data_samples))
            features = {(ARCHITECTURE, n): rec.get(n) for n in rec.names}
        other_features, other_losses = self.forward_other_networks(
            inputs, data_samples)
        features.update(other_features)
        losses.update(other_losses)
        if (self.training and torch.is_grad_enabled()
                and not self._students_checked):
            self._students_checked = True
            self.warn_frozen_students(features)
        distill = self.distill_losses(features, image_shapes(data_samples),
                                      gt_boxes(data_samples))
        if self.grad_stats_due():
            distill.update(
                self.grad_ratios(losses, distill[self.loss_key], features))
        losses.update(distill)
        return losses

    def warn_frozen_students(
            self, features: Dict[Tuple[str, str], torch.Tensor]) -> None:
        """Log a warning naming every student feature no gradient reaches
        (:func:`~.feature_pairs.frozen_students`), with the fix.

        Such a pair trains nothing but adapters (its own, and a target
        adapter it may share with other pairs), and it still counts in the
        pair-weighted mean, so it dilutes the pairs that do teach.

        Args:
            features (dict[tuple[str, str], Tensor]): ``(network key,
                name)`` -> the step's recorded feature.
        """
        frozen = frozen_students(self.pairs, features)
        if not frozen:
            return
        trainable = [
            label for label in dict.fromkeys(
                feature_label(*p.student) for p in self.pairs)
            if label not in frozen
        ]
        print_log(
            f'student feature(s) {frozen} carry no gradient (computed only '
            'by frozen modules, e.g. a backbone stage under frozen_stages): '
            'their pairs cannot change the model, train only adapters, and '
            "take their share of the pair-weighted mean, so the other pairs' "
            'pull is that much weaker. The students that train: '
            f'{trainable}. If that is not intended, leave the frozen ones '
            'out of `features` (or `pairs`) and set `loss_weight` for the '
            'pairs that remain (docs/method.md, "Which features teach '
            'which").',
            logger='current',
            level=logging.WARNING)

    def raise_if_features_non_finite(self) -> None:
        """Raise the one-line error naming the iteration and the pair whose
        feature of the last step held NaN/Inf; nothing if all were finite.

        Reads the device once: MUSEHook calls it only when the step's loss
        (already read by the logger) is non-finite.

        Raises:
            ValueError: a recorded feature of the last step held NaN/Inf.
        """
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
        """Whether :meth:`loss` logs the gradient ratios this step.

        Returns:
            bool: True every ``grad_stats_interval`` training iterations
            (read from the message hub) while distillation is active.
        """
        if (not self.grad_stats_interval or not self.training
                or not self.distill_active):
            return False
        iteration = MessageHub.get_current_instance().get_info('iter')
        return (iteration is not None
                and iteration % self.grad_stats_interval == 0)

    def grad_ratios(self, task_losses: dict, distill_loss: torch.Tensor,
                    features: Dict[Tuple[str, str], torch.Tensor]) -> dict:
        """``grad_ratio/<student>`` for every student feature.

        ``||dL_distill/dF|| / ||dL_task/dF||`` (see
        :func:`~.grad_balance.gradient_ratios`); L_task sums the ``loss*``
        entries of every network (a peer's feature gets its task gradient
        from the peer's own losses).

        Args:
            task_losses (dict[str, Tensor | list[Tensor]]): the task losses
                of every network, as :meth:`loss` collects them.
            distill_loss (Tensor): the distillation loss, a scalar.
            features (dict[tuple[str, str], Tensor]): ``(network key,
                name)`` -> recorded feature, e.g. shape (B, C, H, W).

        Returns:
            dict[str, Tensor]: ``grad_ratio/<student label>`` -> detached
            scalar; empty when the task loss has no graph.
        """
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
        """Run the networks other than the architecture (peers, teachers).

        The base distiller has none; subclasses override this.

        Args:
            inputs (Tensor): the preprocessed images, shape (B, 3, H, W).
            data_samples (list): the batch's data samples, one per image.

        Returns:
            tuple[dict, dict]: their recorded features ``{(network key,
            name): Tensor}`` and their own losses, keys prefixed; here
            ``({}, {})``.
        """
        return {}, {}

    @property
    def distill_active(self) -> bool:
        """bool: whether distillation is on (``distill_weight_scale > 0``,
        which ``MUSEHook`` sets)."""
        return self.distill_weight_scale > 0

    def distill_losses(self,
                       features: Dict[Tuple[str, str], torch.Tensor],
                       img_shapes: Optional[List[Tuple[int, int]]] = None,
                       boxes: Optional[List[torch.Tensor]] = None) -> dict:
        """Pair-weighted mean of the pair losses as ``loss_<method>``, plus
        per-pair and per-layer terms.

        ``loss_<method> = scale * sum_p w_p L_p / sum_p w_p`` (``scale``:
        ``distill_weight_scale``), so ``loss_weight`` means the same whatever
        the number of recorded features. While distillation is off
        (:attr:`distill_active`) only ``loss_<method>`` is returned: zero
        times the pair losses' parameters, so DDP sees the same parameters
        every step.

        Args:
            features (dict[tuple[str, str], Tensor]): ``(network key,
                name)`` -> recorded feature, shape (B, C, H, W) or (B, C);
                both ends of every pair.
            img_shapes (list[tuple[int, int]], optional): each image's
                unpadded ``(h, w)``, so padding is never sampled. Defaults to
                None.
            boxes (list[Tensor], optional): each image's ground-truth boxes,
                shape (n_i, 4) in input pixels (for the losses'
                ``box_weight``). Defaults to None.

        Returns:
            dict[str, Tensor]: ``loss_<method>`` (scalar) and the pair
            losses' logged terms as detached scalars:
            ``<term>/<student>--<target>`` per pair, and
            ``entropy/<student>`` (mean over the student's pairs).

        Raises:
            ValueError: a pair loss refused its inputs; the message names
                the iteration and the pair.
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
