"""tools/train.py, tools/test.py and tools/export.py as a user runs
them, on real files.

Train the README demo config (MUSE FCOS-R18) for a few iterations, evaluate its
checkpoint with tools/test.py, export it, and evaluate the export with the
*plain* detector config: the predictions and COCO metrics must be identical.
"""
import json
import os.path as osp
import pickle
import subprocess
import sys

import pytest
from muse_test_utils import ROOT
from muse_test_utils import run_tool as run
from muse_test_utils import toy_config_text

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow

OVERRIDES = """
train_cfg = dict(max_iters=3, val_interval=3)
default_hooks = dict(checkpoint=dict(interval=3), logger=dict(interval=1))
"""


@pytest.fixture(scope='module')
def trained(toy_coco, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('tools')
    for name in ('muse_fcos_r18_toy_coco', 'fcos_r18_toy_coco'):
        with open(tmp / f'{name}.py', 'w') as f:
            f.write(
                toy_config_text(f'configs/toy/{name}.py', toy_coco, OVERRIDES))
    work = tmp / 'work'
    run('tools/train.py', str(tmp / 'muse_fcos_r18_toy_coco.py'), '--work-dir',
        str(work))
    with open(work / 'last_checkpoint') as f:
        ckpt = f.read().strip()
    return tmp, work, ckpt


def _metrics(work_dir):
    """The COCO metrics of the newest test run in work_dir (mmengine
    writes <ts>/<ts>.json)."""
    from glob import glob
    runs = sorted(glob(osp.join(work_dir, '2*', '2*.json')))
    with open(runs[-1]) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def test_muse_checkpoint_equals_plain_export(trained):
    tmp, work, ckpt = trained
    assert osp.basename(ckpt) == 'iter_3.pth'
    out_muse, out_plain = tmp / 'muse.pkl', tmp / 'plain.pkl'
    run('tools/test.py', str(tmp / 'muse_fcos_r18_toy_coco.py'), ckpt, '--out',
        str(out_muse), '--work-dir', str(tmp / 'test_muse'))
    log = run('tools/export.py', ckpt, str(tmp / 'plain.pth'))
    assert 'distillation-only tensors' in log
    run('tools/test.py', str(tmp / 'fcos_r18_toy_coco.py'),
        str(tmp / 'plain.pth'), '--out', str(out_plain), '--work-dir',
        str(tmp / 'test_plain'))
    with open(out_muse, 'rb') as f:
        muse = pickle.load(f)
    with open(out_plain, 'rb') as f:
        plain = pickle.load(f)
    assert len(muse) == len(plain) == 4
    assert sum(len(r['pred_instances']['bboxes']) for r in muse) > 0
    for a, b in zip(muse, plain):
        for key in ('bboxes', 'scores', 'labels'):
            assert (a['pred_instances'][key] == b['pred_instances'][key]).all()
    m_muse, m_plain = _metrics(tmp / 'test_muse'), _metrics(tmp / 'test_plain')
    assert 'coco/bbox_mAP' in m_muse
    assert {k: v for k, v in m_muse.items() if k.startswith('coco/')} == \
        {k: v for k, v in m_plain.items() if k.startswith('coco/')}


def test_export_has_no_distillation_keys_and_loads_in_mmdet(trained):
    import torch
    tmp, _, ckpt = trained
    plain = tmp / 'plain_keys.pth'
    run('tools/export.py', ckpt, str(plain))
    state = torch.load(plain, weights_only=True)['state_dict']
    assert state and not any(
        k.startswith(('architecture.', 'pair_losses.')) for k in state)
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    det = MODELS.build(
        Config.fromfile(str(tmp / 'fcos_r18_toy_coco.py')).model)
    det.load_state_dict(state, strict=True)


def test_resume_continues_from_the_last_checkpoint(trained):
    tmp, work, _ = trained
    log = run('tools/train.py', str(tmp / 'muse_fcos_r18_toy_coco.py'),
              '--work-dir', str(work), '--resume', '--cfg-options',
              'train_cfg.max_iters=4')
    assert 'resumed epoch: 0, iter: 3' in log
    with open(work / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_4.pth')


def test_tool_errors_are_one_line(tmp_path):
    proc = subprocess.run([
        sys.executable, 'tools/test.py', 'configs/toy/fcos_r18_toy_coco.py',
        str(tmp_path / 'missing.pth')
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0 and 'checkpoint not found' in proc.stderr
    assert 'Traceback' not in proc.stderr
    proc = subprocess.run([
        sys.executable, 'tools/export.py',
        str(tmp_path / 'x.pth'),
        str(tmp_path / 'y.pth')
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0 and 'checkpoint not found' in proc.stderr
