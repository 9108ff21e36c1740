"""Online distillation: peers trained together teach each other."""
from contextlib import ExitStack
from typing import Optional, Sequence, Tuple

from muse_det.information import mutual_learning_losses
from muse_det.information.validation import check_positive_int, check_weight
from muse_det.registry import MODELS
from ..recorders import FeatureRecorder
from .base_distiller import BaseDistiller, build_network, task_losses
from .feature_pairs import ARCHITECTURE, FeaturePair, normalise_features
from .isolated_rng import isolated_rng
from .peer_ensemble import attach_peer_predictions, prediction_fields

# the keys ``logit_kd`` accepts
LOGIT_KD_KEYS = {'logits', 'weight', 'temperature'}


def peer_key(i: int) -> str:
    """The attribute (network key) of peer ``i`` in the distiller.

    Peer 0 is the distiller's ``architecture`` (exported, evaluated by
    default).

    Args:
        i (int): the peer index, from 0.

    Returns:
        str: ``'architecture'`` for peer 0, else ``'peer{i}'``.
    """
    return ARCHITECTURE if i == 0 else f'peer{i}'


def peer_name(i: int) -> str:
    """How peer ``i`` is named in validation metrics
    (``peer1/accuracy/top1``).

    Args:
        i (int): the peer index, from 0.

    Returns:
        str: ``'peer{i}'``.
    """
    return f'peer{i}'


@MODELS.register_module()
class MUSEOnlineDistiller(BaseDistiller):
    """K >= 2 peers (same or different architectures) trained together with
    MUSE between the same features of every two peers, in both directions
    (each direction detaches its target, so every peer is taught by the others
    and teaches them).

    Each peer computes its own task losses (peer 0's keep their names, peer k's
    are prefixed ``peer{k}_``). ``predict``/``test`` use peer ``eval_peer``
    (default 0); ``tools/export.py`` exports peer 0.

    Optional logit distillation for classifiers, deep mutual learning style
    (``logit_kd``): every peer also matches the others' softened predictions,
    ``loss_kd = weight * scale * sum_i L_i`` with
    ``L_i = T^2 / (K-1) * sum_{j != i} KL(p_j || p_i)`` (see
    :func:`~muse_det.information.mutual_learning_losses`) and ``scale``
    MUSEHook's warm-up/stop factor. The logits are recorded, like the features,
    from a module that runs once per forward (``logits='head.fc'`` for
    ``ImageClassifier``), so the peers' forward passes are not repeated.
    (Detection heads run per FPN level and score classes with sigmoids: distil
    detectors through their features.)

    Args:
        peers (Sequence[dict]): at least 2 model configs; peer 0 is built as
            the ``architecture``.
        features (Sequence[str], optional): the recorded features, the same
            names in every peer; ``None``: the default features of peer 0
            (its backbone's stages, else every neck output, else every
            backbone output; see ``default_features`` in
            ``muse_det/models/recorders/shape_probe.py``). Defaults to None.
        loss (dict): the pair loss config (MUSE or a baseline). Defaults to
            ``dict(type='MUSELoss')``.
        logit_kd (dict, optional): ``None`` (off) or
            ``dict(logits='head.fc', weight=1.0, temperature=1.0)``
            (``weight`` and ``temperature`` optional, defaults as shown).
            Defaults to None.
        eval_peer (int): the peer whose predictions ``predict`` returns (what
            plain metrics and ``tools/test.py`` evaluate). Defaults to 0.
        eval_all_peers (bool): ``predict`` also runs the other peers and adds
            their predictions and the ensemble's (mean class
            probabilities; pooled boxes after NMS) to each data sample,
            for :class:`~muse_det.evaluation.MUSEPeerEnsembleMetric`. Defaults
            to False.
        ensemble_cfg (dict, optional): detection ensemble, keys ``nms`` and
            ``max_per_img``; ``None`` uses
            ``dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)``.
            Defaults to None.
        **kwargs: :class:`~.base_distiller.BaseDistiller`'s options
            (``recorder_clone``, ``probe_input_shape``,
            ``grad_stats_interval``, ``init_cfg``, ``data_preprocessor``).

    Examples:
        >>> # two RetinaNet peers
        >>> # (configs/muse/online/muse-online_retinanet_r50_fpn_1x_coco.py)
        >>> model = dict(
        >>>     _delete_=True,
        >>>     type='MUSEOnlineDistiller',
        >>>     peers=[_base_.model, _base_.model],
        >>>     features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
        >>>     loss=dict(type='MUSELoss', variant='multiplicative',
        >>>               num_samples=256, share_target_adapter=False),
        >>>     eval_all_peers=True)
        >>> custom_hooks = [dict(type='MUSEHook')]
        >>> val_evaluator = dict(
        >>>     _delete_=True, type='MUSEPeerEnsembleMetric',
        >>>     metric=_base_.val_evaluator)
        >>> # classifiers with mutual learning of their predictions
        >>> # (configs/classification/toy/muse-online_resnet18_toy_cifar.py)
        >>> model = dict(
        >>>     _delete_=True, type='MUSEOnlineDistiller',
        >>>     peers=[_base_.model.architecture] * 2,
        >>>     features=_base_.model.features, loss=_base_.model.loss,
        >>>     logit_kd=dict(logits='head.fc', weight=1.0, temperature=1.0),
        >>>     eval_all_peers=True, probe_input_shape=(3, 32, 32))
    """

    def __init__(self,
                 peers: Sequence[dict],
                 features: Optional[Sequence[str]] = None,
                 loss: dict = dict(type='MUSELoss'),
                 logit_kd: Optional[dict] = None,
                 eval_peer: int = 0,
                 eval_all_peers: bool = False,
                 ensemble_cfg: Optional[dict] = None,
                 **kwargs):
        if not isinstance(peers, (list, tuple)) or len(peers) < 2:
            raise ValueError(
                'online distillation needs a list of at least 2 peer '
                f'configs, got {type(peers).__name__} of '
                f'{len(peers) if hasattr(peers, "__len__") else "?"}')
        super().__init__(architecture=peers[0], loss=loss, **kwargs)
        for i, cfg in enumerate(peers[1:], start=1):
            # peer 0 is built as a plain run builds it; the others from
            # streams of their own (see isolated_rng)
            with isolated_rng(peer_key(i)):
                setattr(self, peer_key(i), build_network(cfg))
        self.num_peers = len(peers)
        if isinstance(eval_peer, bool) or not isinstance(eval_peer, int) \
                or eval_peer not in range(self.num_peers):
            raise ValueError(
                f'eval_peer must be in 0..{self.num_peers - 1}, got '
                f'{eval_peer!r}')
        self.eval_peer = eval_peer
        self.eval_all_peers = bool(eval_all_peers)
        self.ensemble_cfg = dict(ensemble_cfg or {})
        unknown = set(self.ensemble_cfg) - {'nms', 'max_per_img'}
        if unknown:
            raise ValueError(
                f'ensemble_cfg: unknown key(s) {sorted(unknown)}; valid: '
                f"'nms', 'max_per_img'")
        check_positive_int(
            self.ensemble_cfg.get('max_per_img', 1),
            'ensemble_cfg max_per_img')
        features = self.default_features(ARCHITECTURE) if features is None \
            else normalise_features(features)
        for i in range(self.num_peers):
            self.add_network(peer_key(i), features)
        self.build_pairs([
            FeaturePair((peer_key(i), f), (peer_key(j), f))
            for i in range(self.num_peers) for j in range(self.num_peers)
            if i != j for f in features
        ])
        self.logit_kd = self._build_logit_kd(logit_kd)

    def _build_logit_kd(self, cfg: Optional[dict]) -> Optional[dict]:
        if cfg is None:
            return None
        if not isinstance(
                cfg, dict) or 'logits' not in cfg or set(cfg) - LOGIT_KD_KEYS:
            raise ValueError(
                f'logit_kd must be None or dict(logits=<module path of each '
                "peer's logits, e.g. 'head.fc'>, weight=1.0, "
                'temperature=1.0), '
                f'got {cfg!r}')
        cfg = dict(dict(weight=1.0, temperature=1.0), **cfg)
        cfg['weight'] = check_weight(cfg['weight'], 'logit_kd weight')
        if not check_weight(cfg['temperature'], 'logit_kd temperature') > 0:
            raise ValueError('logit_kd temperature must be positive, got 0')
        # a typo in the module path fails here, listing the valid names
        self.logit_recorders = [
            FeatureRecorder(
                self.network(peer_key(i)), [cfg['logits']],
                clone=self.recorder_clone) for i in range(self.num_peers)
        ]
        return cfg

    def loss(self, inputs, data_samples) -> dict:
        """Every peer's task losses plus the distillation losses.

        Args:
            inputs (Tensor): the preprocessed images, shape (B, 3, H, W).
            data_samples (list): the batch's annotations, one
                :obj:`DetDataSample` (detector) or :obj:`DataSample`
                (classifier) per image.

        Returns:
            dict[str, Tensor]: peer 0's task losses under their own names,
            peer k's prefixed ``peer{k}_``, ``loss_<method>`` (e.g.
            ``loss_muse``) and the pair losses' logged terms (see
            :meth:`~.base_distiller.BaseDistiller.distill_losses`), and
            ``loss_kd`` (a scalar) with ``logit_kd``.
        """
        if self.logit_kd is None:
            return super().loss(inputs, data_samples)
        name = self.logit_kd['logits']
        with ExitStack() as stack:
            recorders = [stack.enter_context(r) for r in self.logit_recorders]
            losses = super().loss(inputs, data_samples)  # runs every peer once
            logits = [r.get(name) for r in recorders]
        for k, z in enumerate(logits):
            self.finite_watch.record(f'peer {k} logits', z)
        kd = mutual_learning_losses(
            logits, self.logit_kd['temperature'], check_finite=False)
        losses['loss_kd'] = sum(kd) * (
            self.logit_kd['weight'] * self.distill_weight_scale)
        return losses

    def predict(self, inputs, data_samples=None):
        """Predictions of peer ``eval_peer``, plus every peer's and the
        ensemble's with ``eval_all_peers``.

        Args:
            inputs (Tensor): the preprocessed images, shape (B, 3, H, W).
            data_samples (list, optional): the batch's data samples, one per
                image. Defaults to None.

        Returns:
            list: the data samples with peer ``eval_peer``'s predictions
            (``pred_instances`` of a detector, ``pred_score``/``pred_label``
            of a classifier); with ``eval_all_peers`` each also holds a
            ``peer_predictions`` field with the other peers' predictions
            (keyed ``peer{k}``) and the ensemble's (``ensemble``).
        """
        if not self.eval_all_peers:
            return self.network(peer_key(self.eval_peer))(
                inputs, data_samples, mode='predict')
        per_peer = []
        for i in range(self.num_peers):
            # each peer writes its predictions into the same samples; keep
            # them field by field
            samples = self.network(peer_key(i))(
                inputs, data_samples, mode='predict')
            per_peer.append([prediction_fields(s) for s in samples])
        return attach_peer_predictions(
            samples, per_peer, self.eval_peer,
            [peer_name(i) for i in range(self.num_peers)], self.ensemble_cfg)

    def forward_other_networks(self, inputs,
                               data_samples) -> Tuple[dict, dict]:
        """Run peers 1..K-1 on the batch in training mode.

        Args:
            inputs (Tensor): the preprocessed images, shape (B, 3, H, W).
            data_samples (list): the batch's annotations, one per image.

        Returns:
            tuple[dict, dict]: the peers' recorded features
            ``{('peer{k}', name): Tensor}`` (each as the module produced
            it, e.g. (B, C, H, W)) and their task losses, keys prefixed
            ``peer{k}_``.
        """
        features, losses = {}, {}
        for i in range(1, self.num_peers):
            key = peer_key(i)
            with self.recorders[key] as rec:
                peer_losses = task_losses(
                    self.network(key).loss(inputs, data_samples))
                features.update({(key, n): rec.get(n) for n in rec.names})
            losses.update({f'{key}_{k}': v for k, v in peer_losses.items()})
        return features, losses
