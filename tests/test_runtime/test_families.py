"""Every shipped MUSE detector config trains and evaluates with a real
Runner on real files.

Each config in configs/muse/ is taken as shipped, then shrunk (ResNet-18, 3
classes, one epoch of 2 iterations on the toy COCO set) so the whole family
runs on a CPU in seconds: one-stage (RetinaNet, ATSS), anchor-free (FCOS),
two-stage (Faster R-CNN, both variants), cascade (Cascade R-CNN) and instance
segmentation (Mask R-CNN, bbox + segm metrics).
"""
import json
import os.path as osp

import pytest
from muse_test_utils import ROOT, toy_run_cfg

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow

CONFIGS = {
    'faster-rcnn': 'muse_faster-rcnn_r50_fpn_1x_coco.py',
    'faster-rcnn-add': 'muse-add_faster-rcnn_r50_fpn_1x_coco.py',
    'retinanet': 'muse_retinanet_r50_fpn_1x_coco.py',
    'fcos': 'muse_fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    'cascade-rcnn': 'muse_cascade-rcnn_r50_fpn_1x_coco.py',
    'mask-rcnn': 'muse_mask-rcnn_r50_fpn_1x_coco.py',
    'atss': 'muse_atss_r50_fpn_1x_coco.py',
}


def _scalars(work_dir):
    from glob import glob
    path = sorted(glob(osp.join(work_dir, '*', 'vis_data',
                                'scalars.json')))[-1]
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize('family', list(CONFIGS))
def test_shipped_config_trains_and_evaluates(family, toy_coco, tmp_path):
    from mmengine.runner import Runner
    with_mask = family == 'mask-rcnn'
    cfg = toy_run_cfg(
        osp.join(ROOT, 'configs/muse', CONFIGS[family]),
        toy_coco,
        str(tmp_path),
        with_mask=with_mask)
    assert cfg.model.type == 'MUSESelfDistiller'
    runner = Runner.from_cfg(cfg)
    runner.train()
    records = _scalars(str(tmp_path))
    train = [r for r in records if 'loss_muse' in r]
    assert len(train) == 2, 'one log line per iteration with loss_muse'
    assert any(
        k.startswith('mi/backbone.layer1--backbone.layer4') for k in train[-1])
    assert any(k.startswith('entropy/backbone.layer1') for k in train[-1])
    val = [r for r in records if 'coco/bbox_mAP' in r]
    assert val, 'CocoMetric ran at the end of the epoch'
    metrics = ['bbox', 'segm'] if with_mask else ['bbox']
    for m in metrics:
        value = val[-1][f'coco/{m}_mAP']
        assert isinstance(value, float) and 0.0 <= value <= 1.0
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_1.pth'))
