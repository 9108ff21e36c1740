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
    the samples it reports the wrapped metric alone. Config::

        val_evaluator = dict(type='MUSEPeerEnsembleMetric',
                             metric=_base_.val_evaluator)

    Other keyword options go to the wrapped metric, so
    ``--cfg-options test_evaluator.classwise=True`` works as with the plain
    metric. Output files (``outfile_prefix``, ``out_file_path``) get the peer's
    name appended for the other peers.
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
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta) -> None:
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
        raise NotImplementedError(
            'MUSEPeerEnsembleMetric delegates to the wrapped metrics')

    def evaluate(self, size: int) -> dict:
        # Every rank must call each wrapped metric's (collective)
        # evaluate the same times.
        names = sorted(set().union(*all_gather_object(sorted(self._seen))))
        out = {}
        for name in ['', *names]:
            for key, value in self._metric(name).evaluate(size).items():
                out[f'{name}/{key}' if name else key] = value
        self._seen = set()
        return out
