"""The toy classification configs (mmpretrain models, data and metric) train
and evaluate with a real mmengine Runner."""
import os.path as osp

import pytest
from cls_helpers import read_scalars, toy_run_cfg

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow


def _train(cfg):
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_baseline_trains_and_evaluates(toy_cifar, tmp_path):
    work_dir = str(tmp_path / 'base')
    cfg = toy_run_cfg('resnet18_toy_cifar.py', toy_cifar, work_dir)
    assert cfg.default_scope == 'mmpretrain'
    runner = _train(cfg)
    assert type(runner.model).__name__ == 'ImageClassifier'
    assert type(runner.model).__module__.startswith('mmpretrain.')
    train, val = read_scalars(work_dir)
    assert [r['iter'] for r in train] == [1, 2] and all('loss' in r
                                                        for r in train)
    assert 0 <= val[-1]['accuracy/top1'] <= val[-1]['accuracy/top5'] <= 100
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))


@pytest.mark.parametrize('loss,key', [
    (None, 'loss_muse'),
    (dict(_delete_=True, type='l2', pool=True), 'loss_l2'),
])
def test_muse_self_distillation_trains_and_logs_information(
        toy_cifar, tmp_path, loss, key):
    work_dir = str(tmp_path / key)
    overrides = {} if loss is None else dict(model=dict(loss=loss))
    runner = _train(
        toy_run_cfg('muse_resnet18_toy_cifar.py', toy_cifar, work_dir,
                    **overrides))
    assert type(runner.model).__name__ == 'MUSESelfDistiller'
    train, val = read_scalars(work_dir)
    assert all(key in r and 'loss_cls' in r for r in train)
    if key == 'loss_muse':
        last = train[-1]
        for layer in ('layer1', 'layer2', 'layer3'):
            assert f'mi/backbone.{layer}--backbone.layer4' in last
            assert f'entropy/backbone.{layer}' in last
        assert 'muse_weight_scale' in last
    assert 'accuracy/top1' in val[-1] and 'accuracy/top5' in val[-1]
