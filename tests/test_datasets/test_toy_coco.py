"""Tests of the toy COCO generator (tools/misc/make_toy_coco.py) and its
dataset configs.

Real files, real pycocotools: a tiny set is generated in a tmp
dir and read back.
"""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest

pycocotools = pytest.importorskip('pycocotools')
from PIL import Image  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIZE = 256


def _load_maker():
    path = osp.join(ROOT, 'tools', 'misc', 'make_toy_coco.py')
    spec = importlib.util.spec_from_file_location('make_toy_coco', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


maker = _load_maker()


def _generate(out, variant='easy', num_train=8, num_val=4, seed=0):
    return maker.make_toy_coco(
        str(out),
        num_train=num_train,
        num_val=num_val,
        size=SIZE,
        seed=seed,
        variant=variant,
        log_every=0)


@pytest.fixture(scope='module')
def easy_root(tmp_path_factory):
    out = tmp_path_factory.mktemp('toy_easy')
    _generate(out, 'easy')
    return out


@pytest.fixture(scope='module')
def hard_root(tmp_path_factory):
    out = tmp_path_factory.mktemp('toy_hard')
    _generate(out, 'hard')
    return out


def _coco(root, split):
    return COCO(osp.join(str(root), 'annotations', f'instances_{split}.json'))


def _tree_bytes(root):
    """{relative path: bytes} of every generated file."""
    files = {}
    for split in ('train', 'val'):
        ann = osp.join(str(root), 'annotations', f'instances_{split}.json')
        files[osp.relpath(ann, str(root))] = open(ann, 'rb').read()
        coco = json.loads(files[osp.relpath(ann, str(root))])
        for img in coco['images']:
            p = osp.join(str(root), split, img['file_name'])
            files[osp.relpath(p, str(root))] = open(p, 'rb').read()
    return files


@pytest.mark.parametrize('variant', ['easy', 'hard'])
def test_files_boxes_and_masks(variant, easy_root, hard_root):
    root = easy_root if variant == 'easy' else hard_root
    classes = maker.EASY_CLASSES if variant == 'easy' else maker.HARD_CLASSES
    seen = set()
    for split, num in (('train', 8), ('val', 4)):
        coco = _coco(root, split)
        assert len(coco.getImgIds()) == num
        assert [c['name']
                for c in coco.loadCats(coco.getCatIds())] == list(classes)
        for img_id in coco.getImgIds():
            info = coco.loadImgs(img_id)[0]
            path = osp.join(str(root), split, info['file_name'])
            assert osp.isfile(path)
            with Image.open(path) as im:
                assert im.format == 'JPEG' and im.mode == 'RGB'
                assert im.size == (info['width'], info['height']) == (SIZE,
                                                                      SIZE)
                pixels = np.asarray(im)
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
            assert anns, 'every image has at least one object'
            for ann in anns:
                seen.add(ann['category_id'])
                assert ann['iscrowd'] == 0
                x, y, w, h = ann['bbox']
                assert w > 0 and h > 0
                assert x >= 0 and y >= 0 and x + w <= SIZE and y + h <= SIZE
                for poly in ann['segmentation']:
                    assert len(poly) >= 6 and len(poly) % 2 == 0
                # polygon area (stored) vs box: a visible part of a shape
                # fills its box partly
                assert 0.1 * w * h <= ann['area'] <= w * h * 1.001
                # rasterised polygon agrees with the stored area
                # and lies in the box
                mask = coco.annToMask(ann).astype(bool)
                assert abs(mask.sum() - ann['area']
                           ) <= 0.05 * ann['area'] + 0.5 * (w + h) + 2
                ys, xs = np.nonzero(mask)
                assert xs.min() >= np.floor(x) - 1 and xs.max(
                ) <= np.ceil(x + w) + 1
                assert ys.min() >= np.floor(y) - 1 and ys.max(
                ) <= np.ceil(y + h) + 1
                if variant == 'easy':
                    # the mask covers the drawn shape: its pixels have
                    # the class colour
                    name = coco.cats[ann['category_id']]['name']
                    colour = pixels[mask].mean(0)
                    expected = np.array(maker.EASY_COLOURS[name], dtype=float)
                    assert np.abs(colour - expected).max() < 35, (name, colour)
    assert seen == set(range(1, len(classes) + 1)), 'every category is present'


def test_deterministic(tmp_path):
    _generate(tmp_path / 'a', 'easy', 6, 2, seed=3)
    _generate(tmp_path / 'b', 'easy', 6, 2, seed=3)
    _generate(tmp_path / 'c', 'easy', 6, 2, seed=4)
    _generate(tmp_path / 'd', 'easy', 3, 1, seed=3)
    a, b, c, d = (_tree_bytes(tmp_path / k) for k in 'abcd')
    assert a == b, 'same arguments -> byte-identical json and JPEGs'
    assert a['annotations/instances_train.json'] != c[
        'annotations/instances_train.json']
    assert a['train/000001.jpg'] != c['train/000001.jpg']
    # an image does not depend on how many images its split has
    for name, data in d.items():
        if name.endswith('.jpg'):
            assert a[name] == data


def test_hard_variant(easy_root, hard_root):
    easy, hard = _coco(easy_root, 'train'), _coco(hard_root, 'train')
    assert len(hard.getCatIds()) == 6 > len(easy.getCatIds()) == 3
    assert len(hard.anns) > len(easy.anns)

    def colour_spread(root, coco):
        """Largest spread of instance mean colours within a class."""
        per_cat = {}
        for ann in coco.anns.values():
            info = coco.imgs[ann['image_id']]
            with Image.open(osp.join(str(root), 'train',
                                     info['file_name'])) as im:
                pix = np.asarray(im)
            per_cat.setdefault(ann['category_id'], []).append(
                pix[coco.annToMask(ann).astype(bool)].mean(0))
        return max(
            np.ptp(np.stack(v), 0).max() for v in per_cat.values()
            if len(v) > 1)

    assert colour_spread(easy_root, easy) < 80
    assert colour_spread(hard_root,
                         hard) > 150, 'hard colours are random per object'
    areas = np.array([a['area'] for a in hard.anns.values()])
    assert (areas < 32**2).sum() >= 3, 'hard set has small objects'
    # occlusion: an occluded object's visible part is often cut into
    # several polygons
    multi = [a for a in hard.anns.values() if len(a['segmentation']) > 1]
    assert multi, 'occluded objects have multi-polygon visible masks'
    assert not [a for a in easy.anns.values() if len(a['segmentation']) > 1]


def test_multiscale_variant_spans_every_fpn_level(tmp_path):
    """Objects of 5-60 % of the image side (8-96 px at the default 160 px),
    log-uniform: every octave between 8 and 96 px holds objects, so each of
    FCOS' 4 levels (strides 8-64) has some to detect; shape-only classes."""
    _, size, *_ = maker.VARIANT_DEFAULTS['multiscale']
    assert size == 160
    maker.make_toy_coco(
        str(tmp_path), 60, 1, seed=0, variant='multiscale', log_every=0)
    coco = _coco(tmp_path, 'train')
    assert coco.imgs[1]['width'] == 160 and len(coco.getCatIds()) == 6
    sides = np.array([max(a['bbox'][2:]) for a in coco.anns.values()])
    # the nominal size, stretched by the shapes' aspect jitter
    assert sides.min() >= 7 and sides.max() <= 0.75 * 160
    counts = np.histogram(sides, bins=[0, 16, 32, 64, 200])[0]
    assert (counts >= 0.1 * len(sides)).all(), counts


def test_cli(tmp_path, capsys):
    out = tmp_path / 'cli'
    assert maker.main([
        '--out',
        str(out), '--num-train', '2', '--num-val', '1', '--variant', 'hard',
        '--seed', '1', '--size', '96'
    ]) == 0
    text = capsys.readouterr().out
    assert 'train: 2 images' in text and 'val  : 1 images' in text
    coco = json.load(open(out / 'annotations' / 'instances_train.json'))
    assert coco['images'][0]['width'] == 96 and len(coco['categories']) == 6
    with pytest.raises(SystemExit):
        maker.parse_args(['--variant', 'medium'])


@pytest.mark.parametrize('cfg_name,variant,num_classes', [
    ('toy_coco_detection.py', 'easy', 3),
    ('toy_coco_hard_detection.py', 'hard', 6),
])
def test_mmdet_dataset_and_metric(cfg_name, variant, num_classes, easy_root,
                                  hard_root):
    pytest.importorskip('mmdet')
    import torch
    from mmdet.registry import DATASETS, METRICS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    register_all_modules(init_default_scope=False)
    init_default_scope('mmdet')

    root = str(easy_root if variant == 'easy' else hard_root) + '/'
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', cfg_name))
    assert len(cfg.metainfo['classes']) == len(
        cfg.metainfo['palette']) == num_classes

    train_cfg = cfg.train_dataloader.dataset.copy()
    train_cfg.data_root = root
    train_set = DATASETS.build(train_cfg)
    assert len(train_set) == 8
    assert train_set.metainfo['classes'] == cfg.metainfo['classes']
    sample = train_set[0]
    assert tuple(sample['inputs'].shape) == (3, SIZE, SIZE)
    assert sample['inputs'].dtype == torch.uint8
    gt = sample['data_samples'].gt_instances
    assert gt.bboxes.shape[-1] == 4 and len(gt.bboxes) >= 1
    assert 0 <= int(gt.labels.min()) and int(gt.labels.max()) < num_classes

    val_cfg = cfg.val_dataloader.dataset.copy()
    val_cfg.data_root = root
    val_set = DATASETS.build(val_cfg)
    assert len(val_set) == 4
    val_sample = val_set[0]
    assert tuple(val_sample['inputs'].shape) == (3, SIZE, SIZE)
    assert val_sample['data_samples'].ori_shape == (SIZE, SIZE)

    # The evaluator config scores perfect predictions
    # (the ground truth) as mAP 1.0.
    metric_cfg = cfg.val_evaluator.copy()
    metric_cfg.ann_file = root + 'annotations/instances_val.json'
    metric = METRICS.build(metric_cfg)
    metric.dataset_meta = val_set.metainfo
    preds = []
    for i in range(len(val_set)):
        info = val_set.get_data_info(i)
        boxes = torch.tensor([inst['bbox'] for inst in info['instances']],
                             dtype=torch.float32)
        labels = torch.tensor(
            [inst['bbox_label'] for inst in info['instances']])
        preds.append(
            dict(
                img_id=info['img_id'],
                ori_shape=(SIZE, SIZE),
                pred_instances=dict(
                    bboxes=boxes, labels=labels,
                    scores=torch.ones(len(boxes)))))
    metric.process({}, preds)
    results = metric.evaluate(len(preds))
    assert results['coco/bbox_mAP'] == pytest.approx(1.0, abs=1e-6)


def test_hard_fcos_config_matches_hard_dataset_config():
    """configs/toy/fcos_r18_toy_coco_hard.py re-targets the easy baseline to
    exactly the data settings of
    configs/_base_/datasets/toy_coco_hard_detection.py."""
    pytest.importorskip('mmdet')
    from mmengine.config import Config
    hard = Config.fromfile(
        osp.join(ROOT, 'configs', 'toy', 'fcos_r18_toy_coco_hard.py'))
    data = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets',
                 'toy_coco_hard_detection.py'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'test_evaluator'):
        assert hard[key].to_dict() == data[key].to_dict(), key
    assert hard.model.bbox_head.num_classes == len(
        data.metainfo['classes']) == 6
    easy = Config.fromfile(
        osp.join(ROOT, 'configs', 'toy', 'fcos_r18_toy_coco.py'))
    assert easy.model.bbox_head.num_classes == 3
    assert (easy.model.backbone.frozen_stages == -1
            and not easy.model.backbone.norm_eval)
    assert easy.model.backbone.init_cfg is None


def test_fcos_toy_config_trains_one_step(easy_root):
    """The plain toy FCOS builds, takes a training step on the generated set
    and predicts."""
    pytest.importorskip('mmdet')
    import torch
    from mmdet.registry import DATASETS, MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    register_all_modules(init_default_scope=False)
    init_default_scope('mmdet')
    torch.manual_seed(0)

    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'toy', 'fcos_r18_toy_coco.py'))
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.data_root = str(easy_root) + '/'
    dataset = DATASETS.build(ds_cfg)
    model = MODELS.build(cfg.model)
    model.train()
    batch = model.data_preprocessor(
        pseudo_collate([dataset[0], dataset[1]]), training=True)
    assert tuple(batch['inputs'].shape) == (2, 3, SIZE, SIZE)
    losses = model(**batch, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.backbone.conv1.parameters()]
    assert all(g is not None and torch.isfinite(g).all()
               for g in grads), 'stem is trained'
    model.eval()
    with torch.no_grad():
        batch = model.data_preprocessor(
            pseudo_collate([dataset[0]]), training=False)
        preds = model(**batch, mode='predict')
    assert preds[0].pred_instances.bboxes.shape[-1] == 4
