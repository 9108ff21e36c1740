"""Checkpoints saved by stock MMEngine/MMDetection (muse_det never imported)
load on every path that needs weights: ``load_from``, ``teacher_ckpt``,
``tools/test.py``, ``tools/export.py``, and ``tools/train.py --resume``;
nothing from the file is executed.

The checkpoints come from a real stock ``Runner`` in a subprocess where
importing muse_det is blocked; its message hub holds ``HistoryBuffer``s
(pickled with ``builtins.getattr``) and numpy values.
"""
import subprocess
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from muse_test_utils import ROOT, run_tool, toy_config_text

from muse_det.checkpoint import (MUSESafeCheckpointRunner, safe_load,
                                 unsafe_globals_in)

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow

OVERRIDES = """
train_cfg = dict(max_iters=2, val_interval=100)
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3), logger=dict(interval=1))
"""

# A stock MMDetection training run, as mmdet's tools/train.py does it
# (Runner.from_cfg), and the same detector inside a wrapper holding it as
# `architecture` (the layout of a distiller's state dict) for the export path.
STOCK_RUN = r'''
import importlib.abc, sys


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'muse_det':
            raise ImportError('a stock MMDetection run: no muse_det')


sys.meta_path.insert(0, Block())
import copy, torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmdet.registry import MODELS

config, out = sys.argv[1], sys.argv[2]
torch.set_num_threads(1)


@MODELS.register_module()
class Wrapped(BaseModel):
    def __init__(self, architecture):
        arch = MODELS.build(architecture)
        super().__init__()
        self.data_preprocessor = arch.data_preprocessor
        self.architecture = arch

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.architecture(inputs, data_samples, mode)


for name, wrap in (('plain', False), ('wrapped', True)):
    cfg = Config.fromfile(config)
    if wrap:
        cfg.model = dict(type='Wrapped', architecture=copy.deepcopy(cfg.model))
    cfg.work_dir = f'{out}/{name}'
    cfg.experiment_name = name
    cfg.visualizer.name = f'visualizer_{name}'
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    assert type(runner) is Runner
    runner.train()
assert not [m for m in sys.modules if m.split('.')[0] == 'muse_det']
print('stock run done')
'''


@pytest.fixture(scope='module')
def stock(toy_coco, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('stock')
    config = tmp / 'fcos_r18_toy_coco.py'
    config.write_text(
        toy_config_text('configs/toy/fcos_r18_toy_coco.py', toy_coco,
                        OVERRIDES))
    proc = subprocess.run(
        [sys.executable, '-c', STOCK_RUN,
         str(config), str(tmp)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900)
    done = proc.returncode == 0 and 'stock run done' in proc.stdout
    assert done, proc.stderr[-3000:]
    return tmp, str(config)


def test_the_checkpoints_hold_stock_mmengine_training_state(stock):
    tmp, _ = stock
    for name in ('plain/iter_2.pth', 'wrapped/iter_2.pth'):
        names = unsafe_globals_in(str(tmp / name))
        assert 'builtins.getattr' in names, names
        assert 'mmengine.logging.history_buffer.HistoryBuffer' in names
        assert any(n.startswith('numpy') for n in names)


def test_load_from(stock, tmp_path):
    tmp, config = stock
    ckpt = str(tmp / 'plain' / 'iter_2.pth')
    cfg = Config.fromfile(config)
    cfg.update(
        work_dir=str(tmp_path),
        load_from=ckpt,
        experiment_name='load_from',
        log_level='WARNING')
    cfg.visualizer.name = 'visualizer_load_from'
    runner = MUSESafeCheckpointRunner.from_cfg(cfg)
    runner.load_or_resume()
    weights = safe_load(ckpt)['state_dict']
    state = runner.model.state_dict()
    assert set(weights) == set(state)
    assert all(torch.equal(state[k], weights[k]) for k in weights)


def test_teacher_ckpt(stock):
    tmp, config = stock
    ckpt = str(tmp / 'plain' / 'iter_2.pth')
    detector = Config.fromfile(config).model
    init_default_scope('mmdet')
    distiller = MODELS.build(
        dict(
            type='MUSEOfflineDistiller',
            architecture=detector,
            teacher=detector,
            teacher_ckpt=ckpt,
            features=['neck[0]', 'neck[4]']))
    weights = safe_load(ckpt)['state_dict']
    teacher = distiller.teacher.state_dict()
    assert all(torch.equal(teacher[k], weights[k]) for k in weights)


def test_tools_test(stock, tmp_path):
    tmp, config = stock
    out = run_tool('tools/test.py', config, str(tmp / 'plain' / 'iter_2.pth'),
                   '--work-dir', str(tmp_path))
    assert 'coco/bbox_mAP' in out


def test_tools_export(stock, tmp_path):
    tmp, _ = stock
    ckpt = str(tmp / 'wrapped' / 'iter_2.pth')
    out = run_tool('tools/export.py', ckpt, str(tmp_path / 'plain.pth'))
    assert 'wrote' in out
    wrapped = safe_load(ckpt)['state_dict']
    plain = safe_load(str(tmp_path / 'plain.pth'))['state_dict']
    assert set(plain) == {k[len('architecture.'):] for k in wrapped}
    assert all(
        torch.equal(plain[k], wrapped[f'architecture.{k}']) for k in plain)


def test_tools_train_resume(stock, tmp_path):
    tmp, config = stock
    run_tool('tools/train.py', config, '--work-dir', str(tmp_path), '--resume',
             str(tmp / 'plain' / 'iter_2.pth'), '--cfg-options',
             'train_cfg.max_iters=3')
    ckpt = str(tmp_path / 'iter_3.pth')
    # written by MUSESafeCheckpointHook: plain tensors only, the stock run's
    # history continued
    assert unsafe_globals_in(ckpt) == []
    resumed = safe_load(ckpt)
    assert resumed['meta']['iter'] == 3
    history = resumed['message_hub']['log_scalars']['train/loss'][
        'log_history']
    stock_history = safe_load(
        str(tmp / 'plain' /
            'iter_2.pth'))['message_hub']['log_scalars']['train/loss'].data[0]
    assert len(history) == 3 and history[:2].tolist() == pytest.approx(
        stock_history.tolist())
