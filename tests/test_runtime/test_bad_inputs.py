"""The troubleshooting table (docs/troubleshooting.md): each bad input gives
its one clear error.

Cases already covered elsewhere are listed in the table with their test; this
file holds the rest, with real models, real files and the real tools.
"""
import copy
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.logging import MessageHub
from muse_test_utils import ROOT, toy_run_cfg

RETINANET = osp.join(ROOT, 'configs/muse/muse_retinanet_r50_fpn_1x_coco.py')


def tool(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, *args],
                          cwd=cwd,
                          capture_output=True,
                          text=True,
                          timeout=600,
                          env=env)


def one_line_error(proc, *needles):
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-2000:]
    first = proc.stderr.strip().splitlines()[-2]
    for n in needles:
        assert n in first, first
    return first


@pytest.fixture
def cfg_file(toy_coco, tmp_path):

    def write(extra='', train_dataset=''):
        path = tmp_path / 'cfg.py'
        path.write_text(
            f"_base_ = '{ROOT}/configs/toy/muse_fcos_r18_toy_coco.py'\n"
            f"data_root = '{toy_coco}/'\n"
            f'train_dataloader = dict(dataset=dict(data_root=data_root, '
            f'{train_dataset}))\n'
            'val_dataloader = dict(dataset=dict(data_root=data_root))\n'
            'test_dataloader = val_dataloader\n'
            'val_evaluator = dict(ann_file=data_root + '
            "'annotations/instances_val.json')\n"
            'test_evaluator = dict(ann_file=data_root + '
            "'annotations/instances_test.json')\n" + extra)
        return str(path)

    return write


def test_dataset_root_missing(cfg_file, tmp_path):
    proc = tool(
        'tools/train.py',
        cfg_file(f'train_dataloader = dict(dataset=dict('
                 f"data_root='{tmp_path}/nowhere/'))\n"))
    one_line_error(proc, 'train_dataloader.dataset.data_root does not exist',
                   'make_toy_coco.py')


def test_annotation_file_missing(cfg_file):
    proc = tool('tools/train.py',
                cfg_file(train_dataset="ann_file='annotations/missing.json'"))
    one_line_error(proc, 'annotation file not found', 'missing.json')


def test_annotation_json_corrupted(cfg_file, tmp_path, toy_coco):
    bad = tmp_path / 'broken.json'
    with open(osp.join(toy_coco, 'annotations/instances_train.json')) as f:
        bad.write_text(f.read()[:500])
    proc = tool('tools/train.py', cfg_file(train_dataset=f"ann_file='{bad}'"))
    one_line_error(proc, 'is not valid JSON', 'truncated or corrupted')


def test_num_classes_mismatch(cfg_file):
    proc = tool(
        'tools/train.py',
        cfg_file(
            'model = dict(architecture=dict(bbox_head=dict(num_classes=80)))\n'
        ))
    one_line_error(proc, 'model.architecture.bbox_head.num_classes=80',
                   'metainfo.classes lists 3', 'set num_classes=3')


def test_unknown_feature_from_the_cli(cfg_file):
    proc = tool('tools/train.py', cfg_file(), '--cfg-options',
                'model.features=[neck.fpn_conv.0,neck[4]]')
    one_line_error(proc, "unknown feature 'neck.fpn_conv.0'",
                   'neck.fpn_convs.0')


def test_resume_checkpoint_missing(cfg_file, tmp_path):
    proc = tool('tools/train.py', cfg_file(), '--resume',
                str(tmp_path / 'nope.pth'))
    assert proc.returncode != 0 and 'checkpoint not found' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_config_file_missing(tmp_path):
    proc = tool('tools/train.py', str(tmp_path / 'nope.py'))
    one_line_error(proc, 'config file not found')


def test_config_without_custom_imports_outside_our_tools(tmp_path):
    """mmengine alone (e.g. mmdet's tools) does not know muse-det's types; the
    fix is `custom_imports`, which every shipped config has."""
    cfg = tmp_path / 'no_imports.py'
    cfg.write_text(f"_base_ = '{RETINANET}'\ncustom_imports = None\n")
    code = (
        'from mmengine.config import Config\nfrom mmengine.registry import '
        'init_default_scope\nfrom mmdet.registry import MODELS\n'
        'init_default_scope("mmdet")\n'
        f'MODELS.build(Config.fromfile({str(cfg)!r}).model)\n')
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          cwd=str(tmp_path),
                          timeout=300)
    assert proc.returncode != 0
    assert 'MUSESelfDistiller is not in the' in proc.stderr


def _retina_distiller(**kw):
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from muse_test_utils import shrink_detector
    init_default_scope('mmdet')
    cfg = Config.fromfile(RETINANET).model
    shrink_detector(cfg.architecture)
    cfg.update(kw)
    return MODELS.build(copy.deepcopy(cfg))


def _batch(n=2, size=128, boxes=True):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    out = []
    for i in range(n):
        s = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1., 1.),
                pad_shape=(size, size),
                batch_input_shape=(size, size)))
        b = torch.tensor([[8., 16., 80., 96.]]) if boxes else torch.zeros(0, 4)
        s.gt_instances = InstanceData(
            bboxes=b, labels=torch.zeros(len(b), dtype=torch.long))
        out.append(s)
    return torch.rand(n, 3, size, size), out


def _at_iteration(i):
    """A message hub as a training loop leaves it at iteration
    ``i`` (RuntimeInfoHook)."""
    MessageHub.get_instance(f'bad_inputs_iter_{i}').update_info('iter', i)


def test_num_samples_larger_than_the_coarse_grid_takes_each_location_once():
    d = _retina_distiller(loss=dict(type='MUSELoss', num_samples=64)).train()
    sizes = []
    d.pair_losses[0].critic.register_forward_hook(
        lambda m, args, out: sizes.append(out.shape[0]))
    losses = d.loss(*_batch())
    # layer4 (the default target) of a 128 px batch is 4x4: its 16
    # locations per image, each once, never upsampled into duplicates
    assert sizes == [2 * 16] and torch.isfinite(losses['loss_muse'])


def test_nan_features_raise_naming_iteration_and_pair():
    d = _retina_distiller(
        features=[f'neck[{i}]' for i in range(5)],
        loss=dict(type='MUSELoss', grid=4, num_samples=8)).train()
    _at_iteration(12)
    losses = d.loss(*_batch())
    d.raise_if_features_non_finite()  # a healthy step: nothing to report
    d.architecture.neck.fpn_convs[1].conv.weight.data[0, 0, 0,
                                                      0] = float('nan')
    # no device sync in the step: the loss is NaN, no error yet
    losses = d.loss(*_batch())
    assert not torch.isfinite(losses['loss_muse'])
    with pytest.raises(
            ValueError,
            match=r'iteration 12, pair neck\.1 -> neck\.4: student '
            r'contains NaN values \(shape \(2, 256, 8, 8\)\)'):
        d.raise_if_features_non_finite()


def test_nan_features_stop_training_with_the_error(tmp_path):
    """In a real run MUSEHook reads the watch once the logged loss is NaN,
    and stops there."""
    from mmengine.hooks import Hook
    from test_resume import _tiny_detector_runner

    class Diverge(Hook):
        priority = 'LOWEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter == 2:
                runner.model.architecture.neck.fpn_convs[
                    0].conv.weight.data.fill_(float('nan'))

    runner = _tiny_detector_runner(
        tmp_path, 'self', custom_hooks=[dict(type='MUSEHook'),
                                        Diverge()])
    with pytest.raises(
            ValueError,
            match=r'^iteration 2, pair neck\.0 -> neck\.1: student '
            r'contains NaN values'):
        runner.train()
    assert runner.iter == 2  # stopped after the step that diverged


def test_one_image_batch_too_small_for_pooled_samples():
    d = _retina_distiller(loss=dict(type='MUSELoss', pool=True)).train()
    with pytest.raises(ValueError, match='at least 2 are needed'):
        d.loss(*_batch(n=1))


def test_images_without_gt_boxes_still_train():
    d = _retina_distiller(
        loss=dict(type='MUSELoss', grid=4, num_samples=8)).train()
    losses = d.loss(*_batch(boxes=False))
    assert torch.isfinite(losses['loss_muse'])


@pytest.mark.parametrize('weight', [-1.0, 'heavy'])
def test_negative_or_non_numeric_loss_weight(weight):
    with pytest.raises(ValueError, match='loss_weight'):
        _retina_distiller(loss=dict(type='MUSELoss', loss_weight=weight))


def test_online_needs_two_peers_and_offline_needs_matching_lists():
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    arch = Config.fromfile(RETINANET).model.architecture
    with pytest.raises(ValueError, match='at least 2 peer configs'):
        MODELS.build(dict(type='MUSEOnlineDistiller', peers=[arch]))
    with pytest.raises(ValueError, match='pair up by position'):
        MODELS.build(
            dict(
                type='MUSEOfflineDistiller',
                architecture=arch,
                teacher=arch,
                features=['neck[0]', 'neck[1]'],
                teacher_features=['neck[0]']))


def test_map_losses_refuse_vector_features():
    """at/nst compare spatial maps: features of a classifier's pooled
    neck are vectors."""
    from muse_det.models.losses import build_distill_loss
    at = build_distill_loss(
        dict(type='at'), student_channels=8, target_channels=8)
    with pytest.raises(ValueError, match='compares spatial maps'):
        at(torch.rand(4, 8), torch.rand(4, 8))


def test_muse_hook_on_a_plain_detector(toy_coco, tmp_path):
    from mmengine.runner import Runner
    cfg = toy_run_cfg(RETINANET, toy_coco, str(tmp_path))
    cfg.model = cfg.model.architecture
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TypeError, match='MUSEHook needs a muse-det distiller'):
        runner.train()


def test_export_of_a_plain_checkpoint(tmp_path):
    path = tmp_path / 'plain.pth'
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(1)}}, path)
    proc = tool('tools/export.py', str(path), str(tmp_path / 'out.pth'))
    assert proc.returncode != 0
    assert 'not a muse-det distiller checkpoint' in proc.stderr
