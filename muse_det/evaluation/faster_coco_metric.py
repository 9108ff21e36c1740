"""mmdet's ``CocoMetric`` evaluated by ``faster-coco-eval`` (C++)
instead of pycocotools.

Switch in a config (same keys as ``CocoMetric``)::

    val_evaluator = dict(
        type='MUSEFasterCocoMetric', ann_file=..., metric='bbox')

mmdet 3.3.0 offers ``use_mp_eval`` (pycocotools in several processes) but no
faster backend. This subclass runs mmdet's own ``compute_metrics`` (result
conversion, classwise table, metric names, rounding) unchanged, with its
``COCO`` / ``COCOeval`` names bound to faster-coco-eval's classes; the numbers
are pycocotools' (see ``tests/test_evaluation/test_faster_coco_eval.py`` and
``tools/analysis_tools/benchmark_coco_eval.py``).
"""
import os
import types
from typing import Optional

from mmdet.evaluation.metrics import CocoMetric
from mmengine.fileio import get_local_path

from muse_det.registry import METRICS

# the pip name of the backend, named by the error when it is missing
PIP_PACKAGE = 'faster-coco-eval'
_BACKEND = None  # (COCO, COCOeval) once imported
_COMPUTE = None  # CocoMetric.compute_metrics reading them


def faster_coco_backend():
    """``(COCO, COCOeval)`` of faster-coco-eval, imported on first use.

    Both follow pycocotools where faster-coco-eval differs, so that the
    metrics are the same:

    * ``COCOeval.summarize`` measures ``stats[0]`` (mAP) at ``maxDets=100`` as
      pycocotools does (faster-coco-eval takes the last ``maxDets``, 1000 in
      mmdet's setting, which differs once an image has more than 100 detections
      of one class) and prints with ``print``;
    * ``COCO.loadRes`` of no results raises ``IndexError`` as pycocotools does,
      which ``CocoMetric`` reports as "The testing results of the whole dataset
      is empty" and returns no metric (faster-coco-eval would return zeros).

    Returns:
        tuple[type, type]: ``(COCO, COCOeval)``, pycocotools-compatible
        subclasses of faster-coco-eval's ``COCO`` and ``COCOeval_faster``.

    Raises:
        ImportError: faster-coco-eval is not installed (the message names
            the package and the ``CocoMetric`` alternative).
    """
    global _BACKEND
    if _BACKEND is not None:
        return _BACKEND
    try:
        from faster_coco_eval import COCO, COCOeval_faster
    except ImportError as e:
        raise ImportError(
            f'MUSEFasterCocoMetric needs the `{PIP_PACKAGE}` package: '
            f'`pip install {PIP_PACKAGE}` '
            f"(listed in requirements/optional.txt), or use type='CocoMetric' "
            f'(pycocotools). Import failed with: {e}') from e

    class PycocotoolsCompatibleCOCO(COCO):

        def loadRes(self, resFile, *args, **kwargs):
            if isinstance(resFile, (str, os.PathLike)):
                resFile = COCO.load_json(resFile)
            if isinstance(resFile, list) and not resFile:
                raise IndexError(
                    'no results to load (pycocotools fails the same way)')
            return super().loadRes(resFile, *args, **kwargs)

    class PycocotoolsCompatibleEval(COCOeval_faster):

        def __init__(self, cocoGt=None, cocoDt=None, iouType='segm', **kwargs):
            kwargs.setdefault('print_function', print)
            super().__init__(cocoGt, cocoDt, iouType, **kwargs)

        def summarize(self):
            super().summarize()
            if self.params.iouType in ('bbox', 'segm') and len(self.stats):
                # pycocotools: stats[0] = _summarize(1), i.e. maxDets=100
                # whatever maxDets is
                printer, self.print_function = (self.print_function,
                                                lambda *a, **k: None)
                try:
                    self.stats[0] = (
                        self._summarize(1, maxDets=100)
                        if 100 in self.params.maxDets else -1.0)
                finally:
                    self.print_function = printer

    _BACKEND = (PycocotoolsCompatibleCOCO, PycocotoolsCompatibleEval)
    return _BACKEND


def _with_backend(func, coco_cls, eval_cls):
    """``func`` with the module-level ``COCO``/``COCOeval``/``COCOevalMP`` it
    reads replaced."""
    names = ('COCO', 'COCOeval', 'COCOevalMP')
    missing = [n for n in names if n not in func.__globals__]
    if missing:
        raise RuntimeError(
            'MUSEFasterCocoMetric: mmdet.evaluation.metrics.coco_metric no '
            f'longer defines {missing}; this mmdet version is not supported')
    scope = dict(
        func.__globals__,
        COCO=coco_cls,
        COCOeval=eval_cls,
        COCOevalMP=eval_cls)
    return types.FunctionType(func.__code__, scope, func.__name__,
                              func.__defaults__, func.__closure__)


@METRICS.register_module()
class MUSEFasterCocoMetric(CocoMetric):
    """``CocoMetric`` (same arguments, keys and numbers) computed
    with faster-coco-eval.

    ``use_mp_eval`` is accepted and has no effect: faster-coco-eval's C++
    evaluation replaces both pycocotools backends. Needs
    ``pip install faster-coco-eval``; a missing package fails when the metric
    is built, naming the package.

    Args:
        ann_file (str, optional): path of the COCO annotation json, loaded
            with faster-coco-eval's ``COCO``; ``None``: converted from the
            ground truth of the evaluated samples, as ``CocoMetric`` does.
            Defaults to None.
        **kwargs: ``CocoMetric``'s other arguments (``metric``,
            ``classwise``, ``proposal_nums``, ``iou_thrs``,
            ``metric_items``, ``format_only``, ``outfile_prefix``,
            ``backend_args``, ``collect_device``, ``prefix``,
            ``sort_categories``, ``use_mp_eval``).

    Examples:
        >>> # docs/config_guide.md, "COCO evaluation backend"
        >>> val_evaluator = dict(
        >>>     type='MUSEFasterCocoMetric',
        >>>     ann_file=data_root + 'annotations/instances_val2017.json',
        >>>     metric='bbox')
        >>> test_evaluator = val_evaluator
    """

    def __init__(self, ann_file: Optional[str] = None, **kwargs) -> None:
        coco_cls, _ = faster_coco_backend()
        sort_categories = kwargs.pop('sort_categories', False)
        # mmdet's __init__ would load ann_file with pycocotools; load
        # it here instead.
        super().__init__(None, **kwargs)
        if ann_file is not None:
            with get_local_path(
                    ann_file, backend_args=self.backend_args) as local_path:
                self._coco_api = coco_cls(local_path)
            if sort_categories:  # as CocoMetric (Objects365V1)
                cats = self._coco_api.cats
                self._coco_api.cats = {i: cats[i] for i in sorted(cats)}
                self._coco_api.dataset['categories'] = sorted(
                    self._coco_api.dataset['categories'],
                    key=lambda c: c['id'])

    def compute_metrics(self, results: list) -> dict:
        """``CocoMetric.compute_metrics`` run with faster-coco-eval's
        ``COCO``/``COCOeval``.

        Args:
            results (list): the ``(gt, pred)`` pairs :meth:`process` collected
                over the dataset.

        Returns:
            dict[str, float]: ``CocoMetric``'s keys, e.g. ``bbox_mAP``,
            ``bbox_mAP_50``, ``bbox_mAP_s`` (the evaluator adds the
            ``coco/`` prefix); empty with ``format_only`` or when the
            dataset has no results.
        """
        global _COMPUTE
        if _COMPUTE is None:
            _COMPUTE = _with_backend(CocoMetric.compute_metrics,
                                     *faster_coco_backend())
        return _COMPUTE(self, results)
