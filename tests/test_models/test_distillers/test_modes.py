"""Online (peers) and offline (frozen teacher) MUSE on real detectors with
a real Runner."""
import os.path as osp

import pytest
import torch
from muse_test_utils import ROOT, toy_run_cfg

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow

OFFLINE = osp.join(
    ROOT,
    'configs/muse/offline/muse-offline_faster-rcnn_r50-to-r18_fpn_1x_coco.py')
ONLINE = osp.join(
    ROOT, 'configs/muse/online/muse-online_retinanet_r50_fpn_1x_coco.py')


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.fixture
def teacher_ckpt(tmp_path):
    """A real (random) teacher detector saved as a plain checkpoint."""
    import copy

    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from muse_test_utils import shrink_detector
    init_default_scope('mmdet')
    teacher = copy.deepcopy(Config.fromfile(OFFLINE).model.teacher)
    shrink_detector(teacher)
    torch.manual_seed(1)
    path = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': MODELS.build(teacher).state_dict()}, path)
    return path


def test_offline_teacher_stays_bit_identical(toy_coco, tmp_path, teacher_ckpt):
    from mmengine.runner import Runner
    cfg = toy_run_cfg(OFFLINE, toy_coco, str(tmp_path / 'work'))
    cfg.model.teacher_ckpt = teacher_ckpt
    runner = Runner.from_cfg(cfg)
    model = runner.model
    saved = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    assert all(
        torch.equal(v, saved[k])
        for k, v in model.teacher.state_dict().items())
    before_student = _snapshot(model.architecture)
    runner.train()
    assert not model.teacher.training
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, saved[k]), f'teacher tensor {k} changed'
    assert all(p.grad is None for p in model.teacher.parameters())
    changed = [
        k for k, v in model.architecture.state_dict().items()
        if v.dtype.is_floating_point and not torch.equal(v, before_student[k])
    ]
    assert changed, 'the student trained'


def test_offline_teacher_checkpoint_errors(toy_coco, tmp_path):
    from mmengine.runner import Runner
    cfg = toy_run_cfg(OFFLINE, toy_coco, str(tmp_path / 'work'))
    cfg.model.teacher_ckpt = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        Runner.from_cfg(cfg)
    cfg.model.teacher_ckpt = str(tmp_path / 'wrong.pth')
    torch.save({'state_dict': {
        'backbone.conv1.weight': torch.zeros(1)
    }}, cfg.model.teacher_ckpt)
    with pytest.raises(ValueError, match='does not match the teacher config'):
        Runner.from_cfg(cfg)


def test_online_every_peer_trains_and_peers_and_ensemble_are_evaluated(
        toy_coco, tmp_path):
    from mmengine.runner import Runner
    work_dir = str(tmp_path / 'work')
    cfg = toy_run_cfg(ONLINE, toy_coco, work_dir)
    cfg.val_evaluator = dict(
        type='MUSEPeerEnsembleMetric', metric=cfg.val_evaluator)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert model.eval_all_peers
    before = [_snapshot(model.architecture), _snapshot(model.peer1)]
    runner.train()
    for peer, snap in zip((model.architecture, model.peer1), before):
        assert any(not torch.equal(v, snap[k])
                   for k, v in peer.state_dict().items()
                   if v.dtype.is_floating_point)
    assert len(model.pairs) == 2 * 4  # 4 backbone stages, both directions
    metrics = runner.val_loop.run()
    for prefix in ('', 'peer1/', 'ensemble/'):
        assert 0 <= metrics[f'{prefix}coco/bbox_mAP'] <= 1, prefix
    # test.py with eval_peer=1 evaluates the other peer under the plain keys
    model.eval_peer = 1
    swapped = runner.val_loop.run()
    assert swapped['coco/bbox_mAP'] == metrics['peer1/coco/bbox_mAP']
    assert swapped['peer0/coco/bbox_mAP'] == metrics['coco/bbox_mAP']
    assert swapped['ensemble/coco/bbox_mAP'] == metrics[
        'ensemble/coco/bbox_mAP']
