"""MUSEFasterCocoMetric (faster-coco-eval) gives pycocotools' numbers (mmdet's
CocoMetric).

Real data: a synthetic COCO set written as an instances json
(tools/analysis_tools/benchmark_coco_eval.py's generator) evaluated by both
backends, and a real Runner validation on the toy set. Measured difference of
the 12 stats at full precision: exactly 0 for bbox and segm; the tolerance
below (1e-12) only allows for float printing."""
import builtins
import json

import numpy as np
import pytest
from muse_test_utils import ROOT, load_tool, toy_run_cfg

bench = load_tool('tools/analysis_tools/benchmark_coco_eval.py')
TOL = 1e-12


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    pytest.importorskip('faster_coco_eval')
    tmp = tmp_path_factory.mktemp('synthetic_coco')
    gt = bench.make_ground_truth(
        num_images=200, num_classes=20, boxes_per_image=4, seed=0)
    return gt, bench.write_ground_truth(gt, str(tmp))


def _classes(gt):
    return tuple(c['name'] for c in gt['categories'])


def test_stats_identical_bbox(synthetic):
    gt, ann_file = synthetic
    results = bench.detections_json(gt, bench.make_detections(gt, seed=1))
    ref = bench.coco_stats('pycocotools', ann_file, results)
    fast = bench.coco_stats('faster-coco-eval', ann_file, results)
    assert 0.1 < ref[0] < 0.9  # a realistic, non-trivial mAP
    np.testing.assert_allclose(fast, ref, rtol=0, atol=TOL)


def test_stats_identical_with_more_than_100_detections(tmp_path):
    """pycocotools reports mAP at maxDets=100 even when mmdet sets
    maxDets=[100, 300, 1000]; faster-coco-eval alone would take 1000.
    MUSEFasterCocoMetric follows pycocotools. (maxDets counts per image and
    category: 2 categories, ~150 false positives each.)"""
    pytest.importorskip('faster_coco_eval')
    from faster_coco_eval import COCO, COCOeval_faster
    gt = bench.make_ground_truth(
        num_images=40, num_classes=2, boxes_per_image=8, seed=0)
    ann_file = bench.write_ground_truth(gt, str(tmp_path))
    dets = bench.make_detections(
        gt, false_positives=300, max_dets=1000, seed=2)
    assert max(len(s) for _, s, _ in dets.values()) > 200
    results = bench.detections_json(gt, dets)
    ref = bench.coco_stats('pycocotools', ann_file, results)
    np.testing.assert_allclose(
        bench.coco_stats('faster-coco-eval', ann_file, results),
        ref,
        rtol=0,
        atol=TOL)
    coco_gt = COCO(ann_file)
    raw = COCOeval_faster(
        coco_gt,
        coco_gt.loadRes(results),
        'bbox',
        print_function=lambda *a: None)
    raw.params.maxDets = [100, 300, 1000]
    raw.run()
    # the case the compatibility fix is for
    assert abs(raw.stats[0] - ref[0]) > 1e-4


def test_stats_identical_segm(synthetic):
    from pycocotools import mask as mask_utils
    gt, ann_file = synthetic
    sizes = {img['id']: (img['height'], img['width']) for img in gt['images']}
    results = []
    for r in bench.detections_json(gt, bench.make_detections(gt,
                                                             seed=3))[:3000]:
        x, y, w, h = r['bbox']
        # not a box
        poly = [[x, y, x + w, y, x + w, y + h * 0.7, x + w * 0.3, y + h]]
        rle = mask_utils.merge(
            mask_utils.frPyObjects(poly, *sizes[r['image_id']]))
        rle['counts'] = rle['counts'].decode()
        results.append(
            dict(
                image_id=r['image_id'],
                category_id=r['category_id'],
                score=r['score'],
                segmentation=rle))
    ref = bench.coco_stats('pycocotools', ann_file, results, iou_type='segm')
    fast = bench.coco_stats(
        'faster-coco-eval', ann_file, results, iou_type='segm')
    assert ref[0] > 0.01
    np.testing.assert_allclose(fast, ref, rtol=0, atol=TOL)


def test_metric_classes_same_results(synthetic):
    """The real metric classes on the same data samples, classwise
    table included."""
    gt, ann_file = synthetic
    samples = bench.data_samples(gt, bench.make_detections(gt, seed=4))
    out = {}
    for backend in ('pycocotools', 'faster-coco-eval'):
        metric = bench.build_metric(backend, ann_file, _classes(gt))
        metric.classwise = True
        metric.process({}, samples)
        out[backend] = metric.evaluate(len(samples))
    # 6 mAPs + one precision per class
    assert len(out['pycocotools']) == 6 + 20
    assert out['faster-coco-eval'] == out['pycocotools']


def test_no_detections_same_as_pycocotools(synthetic):
    """No detection at all: CocoMetric logs 'results ... empty' and
    returns no metric."""
    gt, ann_file = synthetic
    samples = bench.data_samples(
        gt, bench.make_detections(gt, recall=0, false_positives=0))
    for backend in ('pycocotools', 'faster-coco-eval'):
        metric = bench.build_metric(backend, ann_file, _classes(gt))
        metric.process({}, samples)
        assert metric.evaluate(len(samples)) == {}, backend


def test_metric_without_ann_file(synthetic):
    """ann_file=None: the ground truth is converted from the data
    samples' instances."""
    gt, _ = synthetic
    images = gt['images'][:30]
    anns = {}
    for a in gt['annotations']:
        anns.setdefault(a['image_id'], []).append(a)
    dets = bench.make_detections(dict(gt, images=images), seed=5)
    samples = bench.data_samples(dict(gt, images=images), dets)
    for s in samples:
        s['instances'] = [
            dict(
                bbox=[
                    a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                    a['bbox'][1] + a['bbox'][3]
                ],
                bbox_label=a['category_id'] - 1,
                ignore_flag=a['iscrowd']) for a in anns.get(s['img_id'], [])
        ]
    out = {}
    for backend in ('pycocotools', 'faster-coco-eval'):
        metric = bench.build_metric(backend, None, _classes(gt))
        metric.process({}, samples)
        out[backend] = metric.evaluate(len(samples))
    assert out['pycocotools']['coco/bbox_mAP'] > 0.1
    assert out['faster-coco-eval'] == out['pycocotools']


def test_runner_val_loop_same_metrics(toy_coco, tmp_path):
    """The config switch in a real Runner validation (same seeded weights,
    same images)."""
    pytest.importorskip('faster_coco_eval')
    from mmengine.runner import Runner
    config = f'{ROOT}/configs/toy/fcos_r18_toy_coco.py'
    metrics, types = {}, {}
    for metric_type in ('CocoMetric', 'MUSEFasterCocoMetric'):
        cfg = toy_run_cfg(config, toy_coco, str(tmp_path / metric_type))
        cfg.custom_imports = dict(
            imports=['muse_det'], allow_failed_imports=False)
        cfg.val_evaluator.update(type=metric_type, classwise=True)
        runner = Runner.from_cfg(cfg)
        metrics[metric_type] = runner.val()
        types[metric_type] = type(
            runner.val_loop.evaluator.metrics[0]).__name__
    assert types == {
        'CocoMetric': 'CocoMetric',
        'MUSEFasterCocoMetric': 'MUSEFasterCocoMetric'
    }
    assert 'coco/bbox_mAP' in metrics['CocoMetric']
    assert metrics['MUSEFasterCocoMetric'] == metrics['CocoMetric']


def test_missing_package_error(monkeypatch, tmp_path):
    import muse_det  # noqa: F401
    from muse_det.evaluation import faster_coco_metric
    from muse_det.registry import METRICS
    real_import = builtins.__import__

    def no_faster_coco_eval(name, *args, **kwargs):
        if name == 'faster_coco_eval' or name.startswith('faster_coco_eval.'):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', no_faster_coco_eval)
    monkeypatch.setattr(faster_coco_metric, '_BACKEND', None)
    ann_file = tmp_path / 'gt.json'
    ann_file.write_text(
        json.dumps(dict(images=[], annotations=[], categories=[])))
    with pytest.raises(ImportError) as e:
        METRICS.build(
            dict(type='MUSEFasterCocoMetric', ann_file=str(ann_file)))
    message = str(e.value)
    assert ('pip install faster-coco-eval' in message
            and "type='CocoMetric'" in message)


def test_benchmark_tool_tiny(capsys):
    pytest.importorskip('faster_coco_eval')
    out = bench.main(['--images', '60', '--classes', '5'])
    assert out['max_diff'] <= TOL
    assert out['metrics']['pycocotools'] == out['metrics']['faster-coco-eval']
    printed = capsys.readouterr().out
    assert ('| faster-coco-eval | MUSEFasterCocoMetric |' in printed
            and '| AR_l@1000 |' in printed)
