"""tools/train.py, tools/test.py and tools/export.py on classification configs,
as a user runs them."""
import os.path as osp
import pickle
import re
import subprocess
import sys

import pytest
from cls_helpers import ROOT
from muse_test_utils import run_tool as run

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow

ONLINE = 'configs/classification/toy/muse-online_resnet18_toy_cifar.py'


def data_options(root):
    opts = [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2'
    ]
    for split in ('train', 'val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={root}',
            f'{split}_dataloader.batch_size=8'
        ]
    return opts


@pytest.fixture(scope='module')
def online_ckpt(toy_cifar, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('cls_online'))
    run('tools/train.py', ONLINE, '--work-dir', work, '--cfg-options',
        *data_options(toy_cifar))
    return work, osp.join(work, 'iter_2.pth')


def test_test_py_reports_every_peer_and_dumps_classifier_predictions(
        toy_cifar, online_ckpt, tmp_path):
    _, ckpt = online_ckpt
    out = str(tmp_path / 'preds.pkl')
    log = run('tools/test.py', ONLINE, ckpt, '--work-dir',
              str(tmp_path / 'test'), '--out', out, '--cfg-options',
              *data_options(toy_cifar))
    for key in ('accuracy/top1', 'peer1/accuracy/top1',
                'ensemble/accuracy/top1'):
        assert key + ':' in log, key
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 16  # every test image of the toy set
    assert all(p['pred_score'].shape == (10, ) and 'gt_label' in p
               for p in preds)


def test_show_dir_is_refused_for_classifiers(toy_cifar, online_ckpt, tmp_path):
    _, ckpt = online_ckpt
    proc = subprocess.run([
        sys.executable, 'tools/test.py', ONLINE, ckpt, '--show-dir', 'vis',
        '--cfg-options', *data_options(toy_cifar)
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode != 0 and 'draw detections' in proc.stderr


def test_export_of_online_peers_is_a_plain_mmpretrain_classifier(
        toy_cifar, online_ckpt, tmp_path):
    """The exported checkpoint is evaluated with the plain config by our
    tools/test.py and by mmpretrain's own tools/test.py: both load every tensor
    and give the distiller's top-1."""
    import mmpretrain
    _, ckpt = online_ckpt
    plain = str(tmp_path / 'plain.pth')
    run('tools/export.py', ckpt, plain)
    base = 'configs/classification/toy/resnet18_toy_cifar.py'
    log = run('tools/test.py', base, plain, '--work-dir',
              str(tmp_path / 'plain'), '--cfg-options',
              *data_options(toy_cifar))
    mmpretrain_test = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'tools', 'test.py')
    theirs = run(mmpretrain_test, base, plain, '--work-dir',
                 str(tmp_path / 'theirs'), '--cfg-options',
                 *data_options(toy_cifar))
    online = run('tools/test.py', ONLINE, ckpt, '--work-dir',
                 str(tmp_path / 'online'), '--cfg-options',
                 *data_options(toy_cifar))

    def top1(text):  # the unprefixed key (peer 0), last logged value
        return re.findall(r'(?:^|\s)accuracy/top1: ([\d.]+)', text, re.M)[-1]

    assert top1(log) == top1(online) == top1(theirs)
    for text in (log, theirs):
        assert ('Load checkpoint from' in text
                and 'do not match exactly' not in text)


def test_detection_is_told_from_classification_through_dataset_wrappers():
    from mmengine.config import Config
    from muse_test_utils import load_tool
    tool = load_tool('tools/test.py')
    det = Config.fromfile(osp.join(ROOT, 'configs/toy/fcos_r18_toy_coco.py'))
    cls = Config.fromfile(
        osp.join(ROOT, 'configs/classification/toy/resnet18_toy_cifar.py'))
    assert tool.is_detection(det) and not tool.is_detection(cls)
    det.test_dataloader.dataset = dict(
        type='ConcatDataset', datasets=[det.test_dataloader.dataset])
    cls.test_dataloader.dataset = dict(
        type='RepeatDataset', times=2, dataset=cls.test_dataloader.dataset)
    assert tool.is_detection(det) and not tool.is_detection(cls)
