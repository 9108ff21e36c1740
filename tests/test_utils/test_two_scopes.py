"""One registry story for both tasks: muse-det's types resolve by the same
short names from mmdet-scoped and mmpretrain-scoped configs, and a detector
distiller and a classifier distiller build and train in the same process."""
import os.path as osp

import pytest
import torch
from cls_helpers import read_scalars
from cls_helpers import toy_run_cfg as cls_run_cfg
from muse_test_utils import ROOT, toy_run_cfg

MUSE_TYPES = {
    # the pair losses are not here: a distiller's loss table holds them
    # (test_registry_names.py)
    'MODELS':
    ['MUSESelfDistiller', 'MUSEOnlineDistiller', 'MUSEOfflineDistiller'],
    'OPTIM_WRAPPERS': ['MUSEAutocastOptimWrapper'],
    'HOOKS': ['MUSEHook', 'MUSESafeCheckpointHook'],
    'RUNNERS': ['MUSESafeCheckpointRunner'],
    'METRICS': ['MUSEPeerEnsembleMetric', 'MUSEFasterCocoMetric'],
    'DATASETS': ['MUSEToyCIFAR100'],
}


def _registry(kind, scope):
    import mmengine.registry as registries
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope(scope):
        with getattr(registries,
                     kind).switch_scope_and_registry(scope) as registry:
            return registry


@pytest.mark.parametrize('kind', sorted(MUSE_TYPES))
def test_muse_types_are_the_same_from_both_scopes_and_shadow_nothing(kind):
    import muse_det  # noqa: F401
    det, cls = _registry(kind, 'mmdet'), _registry(kind, 'mmpretrain')
    assert (det.scope, cls.scope) == ('mmdet', 'mmpretrain')
    for name in MUSE_TYPES[kind]:
        found = det.get(name)
        assert found is not None and found is cls.get(name), name
        assert found.__module__.startswith('muse_det.'), name
        # registered once, above both scopes: neither scope has a
        # type of that name
        assert (name not in det.module_dict
                and name not in cls.module_dict), name
    # the scope's own types stay the scope's
    if kind == 'MODELS':
        assert det.get('ResNet').__module__.startswith('mmdet.')
        assert cls.get('ResNet').__module__.startswith('mmpretrain.')
        assert cls.get('ImageClassifier').__module__.startswith('mmpretrain.')


def test_a_detector_and_a_classifier_distiller_train_in_one_process(
        toy_coco, toy_cifar, tmp_path):
    from mmengine.runner import Runner
    det_cfg = toy_run_cfg(
        osp.join(ROOT, 'configs/toy/muse_fcos_r18_toy_coco.py'), toy_coco,
        str(tmp_path / 'det'))
    cls_cfg = cls_run_cfg('muse_resnet18_toy_cifar.py', toy_cifar,
                          str(tmp_path / 'cls'))
    assert (det_cfg.default_scope, cls_cfg.default_scope) == ('mmdet',
                                                              'mmpretrain')
    models = []
    # one after the other: a runner builds its dataloaders in train(), in
    # the default scope of the runner built last (mmengine's DefaultScope
    # is process-wide)
    for cfg in (det_cfg, cls_cfg):
        runner = Runner.from_cfg(cfg)
        assert 'MUSEHook' in {type(h).__name__ for h in runner.hooks}
        before = {
            k: v.clone()
            for k, v in runner.model.architecture.state_dict().items()
        }
        runner.train()
        after = runner.model.architecture.state_dict()
        assert any(not torch.equal(before[k], after[k]) for k in before
                   if before[k].is_floating_point())
        models.append(runner.model)
    det, cls = models
    assert type(det) is type(cls) and type(det).__name__ == 'MUSESelfDistiller'
    assert type(det.architecture).__module__.startswith('mmdet.')
    assert type(cls.architecture).__module__.startswith('mmpretrain.')
    train, val = read_scalars(str(tmp_path / 'cls'))
    assert 'loss_muse' in train[-1] and 'loss_cls' in train[
        -1] and 'accuracy/top1' in val[-1]
    det_log = next(
        (tmp_path / 'det').glob('*/vis_data/scalars.json')).read_text()
    assert 'loss_muse' in det_log and 'coco/bbox_mAP' in det_log
