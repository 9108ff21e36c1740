"""Any mmdet detector builds inside a distiller: the shape probe runs at an
input the detector accepts (SSD300's extra layers need 300 px), and the default
features fall back to backbone stages when the neck has a single output
(YOLOF). Real mmdet configs, the README's lines, a real Runner training one
step on the toy COCO set.
"""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import init_default_scope
from muse_test_utils import toy_data_cfg

from muse_det.checkpoint import MUSESafeCheckpointRunner
from muse_det.models.recorders import probe_size

# The README's lines over an mmdet config (features left to their defaults).
README_LINES = """
custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
runner_type = 'MUSESafeCheckpointRunner'
model = dict(
    _delete_=True, type='MUSESelfDistiller', architecture=_base_.model,
    loss=dict(type='MUSELoss', variant='additive', grid=16, num_samples=256))
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
"""

DETECTORS = {
    # VGG16 + SSD neck: 6 levels, the last two from unpadded 3x3 convs
    'ssd300': ('ssd/ssd300_coco.py', 320, [f'neck[{i}]' for i in range(6)]),
    # ResNet-50 C5 only + DilatedEncoder: one feature map
    'yolof': ('yolof/yolof_r50-c5_8xb8-1x_coco.py', 256,
              [f'backbone.layer{i}' for i in range(1, 5)]),
}


def _set_classes(node, num_classes=3):
    if isinstance(node, dict):
        if 'num_classes' in node:
            node['num_classes'] = num_classes
        for value in node.values():
            _set_classes(value, num_classes)


def _one_step_cfg(base, size, toy_coco, tmp_path):
    path = tmp_path / 'muse_detector.py'
    path.write_text(f"_base_ = 'mmdet::{base}'\n" + README_LINES)
    cfg = Config.fromfile(str(path))
    arch = cfg.model.architecture
    # no download; trained from scratch for one step
    arch.backbone.init_cfg = None
    _set_classes(arch)
    data = toy_data_cfg(toy_coco, batch_size=2)
    for t in data['train_dataloader'].dataset.pipeline:
        if t['type'] == 'Resize':
            t.update(scale=(size, size), keep_ratio=False)
    cfg.train_dataloader = data['train_dataloader']
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=1, val_interval=10)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator',
                'auto_scale_lr'):
        cfg.pop(key, None)
    cfg.param_scheduler = []
    cfg.optim_wrapper = dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=1e-4, momentum=0.9))
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=1, by_epoch=False)
    cfg.default_hooks.pop('visualization', None)
    cfg.visualizer.name = f'visualizer_{tmp_path.name}'
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    return cfg


@pytest.mark.parametrize('name', sorted(DETECTORS))
def test_detector_builds_and_trains_one_muse_step(name, toy_coco, tmp_path,
                                                  one_thread):
    base, size, features = DETECTORS[name]
    cfg = _one_step_cfg(base, size, toy_coco, tmp_path)
    runner = MUSESafeCheckpointRunner.from_cfg(cfg)
    model = runner.model
    assert model.recorders['architecture'].names == features
    assert [p.student[1] for p in model.pairs] == features[:-1]
    assert {p.target[1] for p in model.pairs} == {features[-1]}
    before = copy.deepcopy(model.pair_losses.state_dict())
    runner.train()
    losses = runner.message_hub.log_scalars
    assert torch.isfinite(torch.tensor(losses['train/loss_muse'].current()))
    assert losses['train/muse_weight_scale'].current() == pytest.approx(1 /
                                                                        500)
    after = model.pair_losses.state_dict()
    assert any(not torch.equal(before[k], after[k])
               for k in before)  # critics trained
    assert (tmp_path / 'work' / 'iter_1.pth').is_file()


def test_probe_size_comes_from_the_detector():
    init_default_scope('mmdet')
    ssd = get_config('mmdet::ssd/ssd300_coco.py').model
    ssd.backbone.init_cfg = None
    retina = get_config('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py').model
    retina.backbone.init_cfg = None
    # SSD300's generator: input_size=300 and strides up to 300; RetinaNet:
    # strides up to 128
    assert probe_size(MODELS.build(ssd)) == 300
    assert probe_size(MODELS.build(retina)) == 128


def test_probe_failing_at_a_given_shape_names_probe_input_shape():
    init_default_scope('mmdet')
    ssd = get_config('mmdet::ssd/ssd300_coco.py').model
    ssd.backbone.init_cfg = None
    with pytest.raises(ValueError) as info:
        MODELS.build(
            dict(
                type='MUSESelfDistiller',
                architecture=ssd,
                probe_input_shape=(3, 128, 128)))
    message = str(info.value)
    assert '\n' not in message
    assert message.startswith(
        'cannot measure the features of SingleStageDetector: '
        'extract_feat() fails on a zero input of shape (3, 128, 128)')
    assert 'set probe_input_shape=(C, H, W)' in message
