"""COCO bbox evaluation: pycocotools (mmdet's ``CocoMetric``) vs faster-coco-eval
(muse-det's ``MUSEFasterCocoMetric``) on the same synthetic predictions.

A COCO ground truth of --images images (--classes categories, 1 to 2 *
--boxes - 1 boxes an image, small/medium/large sizes, a few crowd boxes) is
written as a real instances json in a temporary directory; detections are
derived from it: each object found with probability --recall, its box jittered
in proportion to its size, its label sometimes wrong, sometimes a duplicate,
plus false positives, random scores, at most --max-dets per image
(mmdet's ``max_per_img``). Both metric classes evaluate the same data samples
through their real ``process``/``evaluate``; the 12 COCO stats are also taken
at full precision from each backend's COCOeval (mmdet's parameters: maxDets
100/300/1000) and compared side by side.

    python tools/analysis_tools/benchmark_coco_eval.py                     # 5000 images, 80 classes
    python tools/analysis_tools/benchmark_coco_eval.py --images 500 --classes 20 --repeats 3
"""  # noqa: E501 (usage lines)
import argparse
import contextlib
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmdet.datasets.api_wrappers import COCO, COCOeval  # noqa: E402
from mmdet.evaluation.metrics import CocoMetric  # noqa: E402

from muse_det.evaluation import MUSEFasterCocoMetric  # noqa: E402
from muse_det.evaluation.faster_coco_metric import \
    faster_coco_backend  # noqa: E402

STAT_NAMES = [
    'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'AR@100', 'AR@300',
    'AR@1000', 'AR_s@1000', 'AR_m@1000', 'AR_l@1000'
]
SIZES = ((640, 480), (480, 640), (640, 427), (500, 375), (800, 600))


def log(msg):
    print(f'[benchmark_coco_eval] {msg}', file=sys.stderr, flush=True)


def make_ground_truth(num_images=5000,
                      num_classes=80,
                      boxes_per_image=4,
                      seed=0):
    """A COCO instances dict: boxes of every size range, ~2% crowd,
    rectangle polygons."""
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for img_id in range(1, num_images + 1):
        w, h = SIZES[rng.integers(len(SIZES))]
        images.append(
            dict(
                id=img_id,
                file_name=f'{img_id:012d}.jpg',
                width=int(w),
                height=int(h)))
        for _ in range(int(rng.integers(1, 2 * boxes_per_image))):
            # log-uniform
            side = float(
                np.exp(rng.uniform(np.log(8), np.log(0.9 * min(w, h)))))
            aspect = float(np.exp(rng.uniform(-0.7, 0.7)))
            bw = min(side * aspect, w - 1.0)
            bh = min(side / aspect, h - 1.0)
            x = float(rng.uniform(0, w - bw))
            y = float(rng.uniform(0, h - bh))
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=img_id,
                    category_id=int(rng.integers(1, num_classes + 1)),
                    bbox=[
                        round(x, 2),
                        round(y, 2),
                        round(bw, 2),
                        round(bh, 2)
                    ],
                    area=round(bw * bh, 2),
                    iscrowd=int(rng.random() < 0.02),
                    segmentation=[[x, y, x + bw, y, x + bw, y + bh, x,
                                   y + bh]]))
    categories = [
        dict(id=i, name=f'class_{i}', supercategory='thing')
        for i in range(1, num_classes + 1)
    ]
    return dict(images=images, annotations=annotations, categories=categories)


def make_detections(gt,
                    recall=0.85,
                    label_noise=0.1,
                    duplicates=0.1,
                    false_positives=3.0,
                    max_dets=100,
                    seed=1):
    """{image id: (boxes xyxy [N, 4] float32, scores [N], labels [N] as
    category indices)}."""
    rng = np.random.default_rng(seed)
    num_classes = len(gt['categories'])
    by_image = {img['id']: [] for img in gt['images']}
    for ann in gt['annotations']:
        if ann['image_id'] in by_image:
            by_image[ann['image_id']].append(ann)
    sizes = {img['id']: (img['width'], img['height']) for img in gt['images']}
    out = {}
    for img_id, anns in by_image.items():
        w, h = sizes[img_id]
        boxes, scores, labels = [], [], []

        def add(x, y, bw, bh, score, label):
            x1, y1 = np.clip(x, 0, w), np.clip(y, 0, h)
            x2, y2 = np.clip(x + bw, 0, w), np.clip(y + bh, 0, h)
            if x2 - x1 > 1 and y2 - y1 > 1:
                boxes.append((x1, y1, x2, y2))
                scores.append(score)
                labels.append(label)

        for ann in anns:
            if rng.random() > recall:
                continue  # missed
            x, y, bw, bh = ann['bbox']
            label = ann['category_id'] - 1
            if rng.random() < label_noise:
                label = int(rng.integers(num_classes))
            for _ in range(1 + int(rng.random() < duplicates)):
                jitter = rng.normal(0, 0.08, 4) * (bw, bh, bw, bh)
                add(x + jitter[0], y + jitter[1], bw + jitter[2],
                    bh + jitter[3], float(rng.beta(5, 2)), label)
        for _ in range(int(rng.poisson(false_positives))):
            side = float(
                np.exp(rng.uniform(np.log(8), np.log(0.8 * min(w, h)))))
            add(
                rng.uniform(0, w - side), rng.uniform(0, h - side), side, side,
                float(rng.beta(2, 5)), int(rng.integers(num_classes)))
        order = np.argsort(
            -np.asarray(scores, dtype=np.float64), kind='stable')[:max_dets]
        out[img_id] = (np.asarray(boxes, dtype=np.float32).reshape(-1,
                                                                   4)[order],
                       np.asarray(scores, dtype=np.float32)[order],
                       np.asarray(labels, dtype=np.int64)[order])
    return out


def write_ground_truth(gt, out_dir):
    path = osp.join(out_dir, 'instances_synthetic.json')
    with open(path, 'w') as f:
        json.dump(gt, f)
    return path


def data_samples(gt, detections):
    """mmdet's test-time data samples (dicts) for ``CocoMetric.process``."""
    sizes = {img['id']: (img['height'], img['width']) for img in gt['images']}
    return [
        dict(
            img_id=img_id,
            ori_shape=sizes[img_id],
            pred_instances=dict(
                bboxes=torch.from_numpy(b),
                scores=torch.from_numpy(s),
                labels=torch.from_numpy(lab)))
        for img_id, (b, s, lab) in detections.items()
    ]


def detections_json(gt, detections):
    """The same predictions as COCO result dicts (xywh, category ids), as
    CocoMetric dumps."""
    cat_ids = [c['id'] for c in gt['categories']]
    res = []
    for img_id, (boxes, scores, labels) in detections.items():
        for (x1, y1, x2, y2), score, label in zip(boxes.tolist(),
                                                  scores.tolist(),
                                                  labels.tolist()):
            res.append(
                dict(
                    image_id=img_id,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    score=score,
                    category_id=cat_ids[label]))
    return res


def backend_classes(backend):
    """(COCO, COCOeval) of 'pycocotools' (as mmdet uses them)
    or 'faster-coco-eval'."""
    if backend == 'pycocotools':
        return COCO, COCOeval
    return faster_coco_backend()


def coco_stats(backend,
               ann_file,
               results,
               iou_type='bbox',
               max_dets=(100, 300, 1000),
               timings=None):
    """The 12 COCO stats at full precision, with mmdet's CocoMetric parameters.
    ``timings`` (a list) receives the (wall, CPU) seconds of evaluate +
    accumulate + summarize."""
    coco_cls, eval_cls = backend_classes(backend)
    with contextlib.redirect_stdout(sys.stderr):
        coco_gt = coco_cls(ann_file)
        # a private copy
        coco_dt = coco_gt.loadRes(json.loads(json.dumps(results)))
        ev = eval_cls(coco_gt, coco_dt, iou_type)
        ev.params.catIds = coco_gt.getCatIds()
        ev.params.imgIds = coco_gt.getImgIds()
        ev.params.maxDets = list(max_dets)
        t0, c0 = time.perf_counter(), time.process_time()
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        if timings is not None:
            timings.append(
                (time.perf_counter() - t0, time.process_time() - c0))
    return np.asarray(ev.stats[:12], dtype=np.float64)


def build_metric(backend, ann_file, classes):
    cls = CocoMetric if backend == 'pycocotools' else MUSEFasterCocoMetric
    with contextlib.redirect_stdout(sys.stderr):
        metric = cls(ann_file=ann_file, metric='bbox')
    metric.dataset_meta = dict(classes=classes)
    return metric


def run_metric(backend, ann_file, classes, samples):
    """Seconds to load the ground truth, wall and CPU (all threads) seconds of
    evaluate() (results json, loadRes, evaluate, accumulate, summarize), and
    the metrics of the real metric class."""
    t0 = time.perf_counter()
    metric = build_metric(backend, ann_file, classes)
    t1 = time.perf_counter()
    metric.process({}, samples)
    with contextlib.redirect_stdout(sys.stderr):
        t2, c2 = time.perf_counter(), time.process_time()
        metrics = metric.evaluate(len(samples))
        t3, c3 = time.perf_counter(), time.process_time()
    return (t1 - t0, t3 - t2, c3 - c2), metrics


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=5000)
    parser.add_argument('--classes', type=int, default=80)
    parser.add_argument(
        '--boxes',
        type=int,
        default=4,
        help='mean ground-truth boxes per image')
    parser.add_argument(
        '--max-dets', type=int, default=100, help='detections kept per image')
    parser.add_argument(
        '--repeats', type=int, default=1, help='timings: median of repeats')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    backends = ['pycocotools', 'faster-coco-eval']

    with tempfile.TemporaryDirectory() as tmp:
        log(f'writing {args.images} images, {args.classes} classes of ground '
            f'truth to {tmp}')
        gt = make_ground_truth(args.images, args.classes, args.boxes,
                               args.seed)
        ann_file = write_ground_truth(gt, tmp)
        dets = make_detections(gt, max_dets=args.max_dets, seed=args.seed + 1)
        samples = data_samples(gt, dets)
        num_dets = sum(len(d[1]) for d in dets.values())
        log(f'{len(gt["annotations"])} ground-truth boxes, {num_dets} '
            'detections')
        classes = tuple(c['name'] for c in gt['categories'])

        for b in backends:  # imports outside the timings
            backend_classes(b)
        build_metric(backends[0], None, classes)
        timing = {b: [] for b in backends}
        metrics = {}
        for rep in range(args.repeats):
            # alternate the order
            for b in (backends if rep % 2 == 0 else backends[::-1]):
                log(f'{b}: CocoMetric.evaluate (repeat '
                    f'{rep + 1}/{args.repeats})')
                seconds, metrics[b] = run_metric(b, ann_file, classes, samples)
                timing[b].append(seconds)
        results = detections_json(gt, dets)
        stats, eval_only = {}, {}
        for b in backends:
            log(f'{b}: full-precision stats')
            eval_only[b] = []
            stats[b] = coco_stats(b, ann_file, results, timings=eval_only[b])

    med = {
        b: [statistics.median(t[i] for t in timing[b]) for i in range(3)]
        for b in backends
    }
    ref = med['pycocotools']
    print(
        f'\n{args.images} images, {args.classes} classes, '
        f'{len(gt["annotations"])} gt boxes, {num_dets} detections; median of '
        f'{args.repeats} run(s)\n')
    print('| backend | metric | load gt (s) | evaluate, wall (s) | speed-up | '
          'evaluate, CPU (s) | speed-up |')
    print('|---|---|---:|---:|---:|---:|---:|')
    for b, name in zip(backends, ('CocoMetric', 'MUSEFasterCocoMetric')):
        load_s, wall_s, cpu_s = med[b]
        print(
            f'| {b} | {name} | {load_s:.2f} | {wall_s:.2f} | '
            f'{ref[1] / wall_s:.1f}x | {cpu_s:.2f} | {ref[2] / cpu_s:.1f}x |')
    ref_wall, ref_cpu = eval_only['pycocotools'][0]
    for b in backends:
        wall_s, cpu_s = eval_only[b][0]
        print(f'| {b} | COCOeval only (evaluate, accumulate, summarize) | - | '
              f'{wall_s:.2f} | {ref_wall / wall_s:.1f}x | {cpu_s:.2f} | '
              f'{ref_cpu / cpu_s:.1f}x |')
    diff = np.abs(stats['pycocotools'] - stats['faster-coco-eval'])
    print('\n| stat | pycocotools | faster-coco-eval | abs diff |')
    print('|---|---:|---:|---:|')
    for i, name in enumerate(STAT_NAMES):
        print(f'| {name} | {stats["pycocotools"][i]:.6f} | '
              f'{stats["faster-coco-eval"][i]:.6f} | {diff[i]:.1e} |')
    print(
        f'\nmax |difference| of the 12 stats: {diff.max():.3g}; metric dicts '
        f'identical: {metrics["pycocotools"] == metrics["faster-coco-eval"]}')
    return dict(
        timing=med, stats=stats, metrics=metrics, max_diff=float(diff.max()))


if __name__ == '__main__':
    main()
