"""tools/misc/pretrain_toy_backbone.py: a real mmpretrain run whose backbone
loads into the pretrained-regime detector as an ImageNet backbone loads into
mmdet's COCO configs."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from muse_test_utils import ROOT, load_tool

pretrain_tool = load_tool('tools/misc/pretrain_toy_backbone.py')
crops = load_tool('tools/misc/make_toy_pretrain.py')


def test_the_set_has_every_class_and_none_of_the_detection_images(tmp_path):
    used = crops.make_toy_pretrain(
        str(tmp_path), per_class=2, val_per_class=1, seed=0)
    assert sorted(os.listdir(tmp_path / 'train')) == sorted(crops.CLASSES)
    assert len(crops.CLASSES) == 19
    for name in crops.CLASSES:
        assert len(os.listdir(tmp_path / 'train' / name)) == 2
        assert len(os.listdir(tmp_path / 'val' / name)) == 1
    from PIL import Image
    img = Image.open(tmp_path / 'train' / 'star_small' / '000001.png')
    assert img.size == (64, 64) and img.mode == 'RGB'
    assert used['train'] > 0 and used['val'] > 0
    with open(tmp_path / 'classes.txt') as f:
        assert f.read().split() == list(crops.CLASSES)
    # drawn from the generator's own stream, not the detection splits'
    coco = load_tool('tools/misc/make_toy_coco.py')
    assert coco.SPLIT_IDS['pretrain'] not in (coco.SPLIT_IDS['train'],
                                              coco.SPLIT_IDS['val'],
                                              coco.SPLIT_IDS['test'])
    assert crops.size_bin(8) == 'small' and crops.size_bin(20) == 'medium'
    assert crops.size_bin(56) == 'large' and crops.size_bin(57) is None


@pytest.mark.usefixtures('one_thread')
def test_pretrained_backbone_loads_into_the_detector(tmp_path):
    out = str(tmp_path / 'r18.pth')

    def pretrain(out):
        return pretrain_tool.pretrain(
            out,
            str(tmp_path / 'data'),
            iters=2,
            per_class=2,
            val_per_class=1,
            work_dir=str(tmp_path / 'work'))

    # the run is pinned to its own thread count (the weights depend on it)
    # and leaves the caller's as it was
    torch.set_num_threads(2)
    try:
        res = pretrain(out)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
    assert 0.0 <= res['top1'] <= 100.0 and res['iters'] == 2
    ckpt = torch.load(out, map_location='cpu', weights_only=True)
    assert ckpt['meta']['classes'] == sorted(crops.CLASSES)
    assert ckpt['meta']['threads'] == 1
    # the same command makes the same file, byte for byte
    again = str(tmp_path / 'again.pth')
    pretrain(again)
    with open(out, 'rb') as a, open(again, 'rb') as b:
        assert a.read() == b.read()
    backbone = {
        k[len('backbone.'):]: v
        for k, v in ckpt['state_dict'].items() if k.startswith('backbone.')
    }
    assert 'layer4.1.conv2.weight' in backbone
    assert not [
        p for p in os.listdir(tmp_path) if p.startswith('tmp-pretrain-')
    ]

    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    import muse_det  # noqa: F401
    cfg = Config.fromfile(
        osp.join(ROOT,
                 'configs/toy/fcos_r18_toy_coco_multiscale_pretrained.py'))
    cfg.model.backbone.init_cfg.checkpoint = out
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = MODELS.build(cfg.model)
    detector.init_weights()
    state = detector.backbone.state_dict()
    # every backbone tensor comes from the classifier (the BN statistics too)
    assert set(backbone) == set(state)
    for key, value in backbone.items():
        assert torch.equal(state[key], value), key
    # mmdet's COCO regime: stem and layer1 frozen, BN statistics frozen
    detector.train()
    assert not any(p.requires_grad
                   for p in detector.backbone.layer1.parameters())
    assert all(p.requires_grad for p in detector.backbone.layer2.parameters())
    assert not detector.backbone.layer3[0].bn1.training
