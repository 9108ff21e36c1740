"""Evaluate every peer of an online distiller, and their ensemble, with one
metric config."""
import copy
from typing import Dict, Sequence

from mmengine.dist import all_gather_object
from mmengine.evaluator import BaseMetric

from muse_det.errors import MuseDetError
from muse_det.models.distillers.peer_ensemble import PEER_PREDICTIONS
from muse_det.registry import METRICS

# Options naming output files: each peer gets its own (else they overwrite the
# evaluated peer's).
OUTPUT_OPTIONS = ('outfile_prefix', 'out_file_path')


@METRICS.register_module()
class MUSEPeerEnsembleMetric(BaseMetric):
    """Wraps any metric (mmdet's ``CocoMetric``, mmpretrain's
    ``Accuracy``, ...) and evaluates it once per peer.

    The evaluated peer keeps the metric's own keys (``coco/bbox_mAP``: what
    checkpoint selection and ``tools/test.py`` read); every other peer and the
    ensemble get a prefix (``peer1/coco/bbox_mAP``,
    ``ensemble/coco/bbox_mAP``). Needs
    ``MUSEOnlineDistiller(eval_all_peers=True)``; without peer predictions in
    the samples it reports the wrapped metric alone.

    Other keyword options go to the wrapped metric, so
    ``--cfg-options test_evaluator.classwise=True`` works as with the plain
    metric. Output files (``outfile_prefix``, ``out_file_path``) get the peer's
    name appended for the other peers.

    Args:
        metric (dict): config of the wrapped metric, e.g.
            ``_base_.val_evaluator``; built once for the evaluated peer and
            once for each other peer and the ensemble.
        **overrides: options merged into ``metric``.

    Raises:
        MuseDetError: ``metric`` is not a config dict with a ``type``.

    Examples:
        >>> # configs/muse/online/muse-online_retinanet_r50_fpn_1x_coco.py
        >>> # (its model: MUSEOnlineDistiller(..., eval_all_peers=True))
        >>> val_evaluator = dict(
        >>>     _delete_=True, type='MUSEPeerEnsembleMetric',
        >>>     metric=_base_.val_evaluator)
        >>> test_evaluator = val_evaluator
    """
    default_prefix = ''  # keys are the wrapped metric's

    def __init__(self, metric: dict, **overrides):
        super().__init__()
        if not isinstance(metric, dict) or 'type' not in metric:
            raise MuseDetError(
                'MUSEPeerEnsembleMetric needs `metric`: one metric config '
                'dict with a "type" (e.g. dict(type="CocoMetric", ...)), got '
                f'{metric!r}')
        self.metric_cfg = dict(copy.deepcopy(metric), **overrides)
        self.metrics: Dict[str, BaseMetric] = {
            '': METRICS.build(copy.deepcopy(self.metric_cfg))
        }
        self._seen = set()  # peers with predictions in the current evaluation

    @property
    def dataset_meta(self):
        """dict | None: the dataset's meta information, shared with every
        wrapped metric."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta) -> None:
        """Set the meta information on this metric and every wrapped one.

        Args:
            meta (dict | None): the dataset's meta information (e.g.
                ``classes``).
        """
        self._dataset_meta = meta
        for metric in self.metrics.values():
            metric.dataset_meta = meta

    def _metric(self, name: str) -> BaseMetric:
        if name not in self.metrics:
            cfg = copy.deepcopy(self.metric_cfg)
            for key in OUTPUT_OPTIONS:
                if cfg.get(key):
                    root, dot, ext = str(cfg[key]).rpartition('.')
                    cfg[key] = (f'{root}_{name}.{ext}' if dot
                                and '/' not in ext else f'{cfg[key]}_{name}')
            metric = METRICS.build(cfg)
            metric.dataset_meta = self._dataset_meta
            self.metrics[name] = metric
        return self.metrics[name]

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Route each sample's predictions to the wrapped metrics.

        Overrides ``BaseMetric.process``: each sample without its
        ``peer_predictions`` goes to the evaluated peer's metric; each other
        peer's (and the ensemble's) fields, laid over a copy of the sample
        (ground truth and meta information kept), go to that peer's metric.

        Args:
            data_batch (dict): a batch from the dataloader.
            data_samples (Sequence[dict]): the model's outputs, one dict per
                image, as the evaluator passes them.
        """
        main, by_peer = [], {}
        for sample in data_samples:
            sample = dict(sample)
            others = sample.pop(PEER_PREDICTIONS, None) or {}
            main.append(sample)
            for name, fields in others.items():
                by_peer.setdefault(name, []).append({**sample, **fields})
        self.metrics[''].process(data_batch, main)
        for name, samples in by_peer.items():
            self._metric(name).process(data_batch, samples)
            self._seen.add(name)

    def compute_metrics(
            self,
            results: list) -> dict:  # pragma: no cover (evaluate delegates)
        """Not used: :meth:`evaluate` delegates to the wrapped metrics.

        Args:
            results (list): unused.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            'MUSEPeerEnsembleMetric delegates to the wrapped metrics')

    def evaluate(self, size: int) -> dict:
        """Evaluate the wrapped metric of every peer and of the ensemble.

        Overrides ``BaseMetric.evaluate``: the peers with predictions on any
        rank are gathered first, so every rank calls each wrapped metric's
        (collective) ``evaluate``; the seen peers are then reset for the
        next evaluation.

        Args:
            size (int): the dataset's length, as ``BaseMetric.evaluate``
                takes it.

        Returns:
            dict: the evaluated peer's metrics under the wrapped metric's own
            keys, the others' as ``<name>/<key>`` (``peer1/coco/bbox_mAP``,
            ``ensemble/coco/bbox_mAP``).
        """
        # Every rank must call each wrapped metric's (collective)
        # evaluate the same times.
        names = sorted(set().union(*all_gather_object(sorted(self._seen))))
        out = {}
        for name in ['', *names]:
            for key, value in self._metric(name).evaluate(size).items():
                out[f'{name}/{key}' if name else key] = value
        self._seen = set()
        return out
