"""Online and offline MUSE for classifiers, and every baseline from its loss
dict, in real runs."""
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from cls_helpers import ROOT, read_scalars, toy_run_cfg

from muse_det.checkpoint import safe_load

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(module, before):
    return [
        k for k, v in module.state_dict().items()
        if v.dtype.is_floating_point and not torch.equal(v, before[k])
    ]


def test_online_peers_all_train_and_report_every_peer_and_the_ensemble(
        toy_cifar, tmp_path):
    from mmengine.runner import Runner
    work_dir = str(tmp_path / 'online')
    runner = Runner.from_cfg(
        toy_run_cfg('muse-online_resnet18_toy_cifar.py', toy_cifar, work_dir))
    model = runner.model
    before = [_snapshot(model.architecture), _snapshot(model.peer1)]
    runner.train()
    for peer, snap in zip((model.architecture, model.peer1), before):
        assert _changed(peer, snap), 'every peer trains'
    train, val = read_scalars(work_dir)
    for key in ('loss_cls', 'peer1_loss_cls', 'loss_muse', 'loss_kd',
                'mi/backbone.layer1--peer1.backbone.layer1',
                'mi/peer1.backbone.layer4--backbone.layer4'):
        assert key in train[-1], key
    for key in ('accuracy/top1', 'peer1/accuracy/top1',
                'ensemble/accuracy/top1', 'ensemble/accuracy/top5'):
        assert key in val[-1], key

    # The reported numbers are the peers' and their mean-probability
    # ensemble's accuracies.
    model.eval()
    scores, labels = [[], []], []
    with torch.no_grad():
        for batch in runner.val_dataloader:
            data = model.data_preprocessor(batch, False)
            labels += [int(s.gt_label) for s in data['data_samples']]
            for k, peer in enumerate((model.architecture, model.peer1)):
                scores[k].append(
                    F.softmax(peer(data['inputs'], mode='tensor'), dim=1))
    labels = torch.tensor(labels)
    scores = [torch.cat(s) for s in scores]

    def top1(s):
        return (s.argmax(1) == labels).float().mean().item() * 100

    assert val[-1]['accuracy/top1'] == pytest.approx(top1(scores[0]), abs=1e-3)
    assert val[-1]['peer1/accuracy/top1'] == pytest.approx(
        top1(scores[1]), abs=1e-3)
    assert val[-1]['ensemble/accuracy/top1'] == pytest.approx(
        top1((scores[0] + scores[1]) / 2), abs=1e-3)


def test_online_logit_kd_matches_mutual_learning_of_the_recorded_logits(
        toy_cifar, tmp_path):
    from mmengine.runner import Runner

    from muse_det.information import mutual_learning_losses
    cfg = toy_run_cfg(
        'muse-online_resnet18_toy_cifar.py',
        toy_cifar,
        str(tmp_path / 'kd'),
        model=dict(logit_kd=dict(weight=0.5, temperature=2.0)))
    runner = Runner.from_cfg(cfg)
    model = runner.model
    batch = model.data_preprocessor(next(iter(runner.train_dataloader)), True)
    torch.manual_seed(0)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    # the same logits again, without batch-statistics noise:
    # compare in eval mode
    model.eval()
    with torch.no_grad():
        logits = [
            net(batch['inputs'], mode='tensor')
            for net in (model.architecture, model.peer1)
        ]
        kd = model.loss(batch['inputs'], batch['data_samples'])['loss_kd']
    expected = 0.5 * sum(mutual_learning_losses(logits, temperature=2.0))
    assert kd.item() == pytest.approx(expected.item(), rel=1e-5)
    assert losses['loss_kd'].requires_grad


def test_online_logit_kd_bad_module_lists_valid_names(toy_cifar):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from muse_det.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(
        osp.join(
            ROOT, 'configs/classification/toy/'
            'muse-online_resnet18_toy_cifar.py'))
    cfg.model.logit_kd = dict(logits='head.fcc')
    with pytest.raises(
            ValueError, match=r"unknown feature 'head.fcc'.*head.fc"):
        MODELS.build(cfg.model)
    cfg.model.logit_kd = dict(logits='head.fc', temprature=2)
    with pytest.raises(ValueError, match='logit_kd must be None or dict'):
        MODELS.build(cfg.model)
    cfg.model.logit_kd = dict(logits='head.fc', temperature=0)
    with pytest.raises(ValueError, match='temperature must be positive'):
        MODELS.build(cfg.model)
    cfg.model.logit_kd = None
    for key, value, match in (('eval_peer', 1.0, 'eval_peer must be in 0..1'),
                              ('eval_peer', 2, 'eval_peer must be in 0..1'),
                              ('ensemble_cfg', dict(max_per_img=0),
                               'max_per_img must be'), ('ensemble_cfg',
                                                        dict(iou=0.5),
                                                        "unknown key.*'nms'")):
        with pytest.raises(ValueError, match=match):
            MODELS.build(dict(cfg.model, **{key: value}))


def test_offline_teacher_from_a_trained_checkpoint_stays_frozen(
        toy_cifar, tmp_path):
    from mmengine.runner import Runner
    teacher_dir = str(tmp_path / 'teacher')
    Runner.from_cfg(
        toy_run_cfg('resnet18_toy_cifar.py', toy_cifar, teacher_dir)).train()
    ckpt = osp.join(teacher_dir, 'iter_2.pth')
    work_dir = str(tmp_path / 'offline')
    runner = Runner.from_cfg(
        toy_run_cfg(
            'muse-offline_resnet18_toy_cifar.py',
            toy_cifar,
            work_dir,
            model=dict(teacher_ckpt=ckpt)))
    model = runner.model
    saved = safe_load(ckpt)['state_dict']  # written by a stock Runner
    before = _snapshot(model.architecture)
    runner.train()
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, saved[k]), f'teacher tensor {k} changed'
    assert not model.teacher.training and _changed(model.architecture, before)
    train, val = read_scalars(work_dir)
    assert 'mi/backbone.layer1--teacher.backbone.layer1' in train[-1]
    assert 'accuracy/top1' in val[-1]
    student_ckpt = safe_load(osp.join(work_dir, 'iter_2.pth'))['state_dict']
    from muse_det.models.distillers.export import strip_distiller
    plain, dropped = strip_distiller(student_ckpt)
    assert not any(k.startswith('teacher.') for k in plain)
    assert any(k.startswith('teacher.') for k in dropped)


BASELINES = sorted(
    glob.glob(osp.join(ROOT, 'configs/classification/baselines/*.py')))


def test_baseline_configs_change_only_the_loss():
    """Each baseline config is MUSE's with the loss dict replaced: the
    method's type and every MUSE sampling option the method takes."""
    from mmengine.config import Config

    from muse_det.models.losses import loss_options
    muse = Config.fromfile(
        osp.join(ROOT, 'configs/classification/'
                 'muse_resnet18_8xb16_cifar100.py'))
    assert {osp.basename(p).split('_')[0] for p in BASELINES} == \
        {'l2', 'at', 'nst', 'cosine', 'vid', 'crd'}
    for path in BASELINES:
        cfg = Config.fromfile(path)
        method = osp.basename(path).split('_')[0]
        takes = set(loss_options(method))
        assert cfg.model.loss.to_dict() == dict(
            {k: v
             for k, v in muse.model.loss.items() if k in takes},
            type=method), path
        cfg.model.loss = muse.model.loss
        assert cfg.model.to_dict() == muse.model.to_dict(), path


@pytest.mark.parametrize('method', ['at', 'nst', 'cosine', 'vid', 'crd'])
def test_every_baseline_trains_from_its_loss_dict(toy_cifar, tmp_path, method):
    from mmengine.runner import Runner
    work_dir = str(tmp_path / method)
    cfg = toy_run_cfg('muse_resnet18_toy_cifar.py', toy_cifar, work_dir)
    cfg.merge_from_dict({
        'model.loss':
        dict(_delete_=True, type=method, pool=False, grid=4, num_samples=16)
    })
    runner = Runner.from_cfg(cfg)
    adapters = _snapshot(runner.model.pair_losses)
    runner.train()
    train, _ = read_scalars(work_dir)
    assert all(f'loss_{method}' in r
               and torch.isfinite(torch.tensor(r[f'loss_{method}']))
               for r in train)
    if adapters:  # losses with adapters train them
        assert _changed(runner.model.pair_losses, adapters)
