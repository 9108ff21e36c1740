"""Helpers of the classification tests: a tiny real toy CIFAR-100-format set on
disk (fixtures, imported by the test modules), and the toy configs shrunk to a
few iterations on it.

(Not a conftest.py: conftest modules outside packages share the module name
``conftest``, and a second one would shadow ``tests/conftest.py`` for
``from conftest import ...``.)
"""
import copy
import json
import os.path as osp
import sys
from glob import glob

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIGS = osp.join(ROOT, 'configs', 'classification', 'toy')


@pytest.fixture(scope='session')
def toy_maker():
    """tools/misc/make_toy_cifar.py as a module."""
    sys.path.insert(0, osp.join(ROOT, 'tools', 'misc'))
    try:
        import make_toy_cifar
    finally:
        sys.path.pop(0)
    return make_toy_cifar


@pytest.fixture(scope='session')
def toy_cifar(tmp_path_factory, toy_maker):
    """data_root of a real toy set: 24 train and 16 test images
    (pickles + meta)."""
    root = str(tmp_path_factory.mktemp('toy_cifar'))
    toy_maker.make_toy_cifar(
        root, num_train=24, num_test=16, seed=0, log_every=0)
    return root


def toy_run_cfg(name: str,
                data_root: str,
                work_dir: str,
                iters: int = 2,
                **overrides):
    """A shipped toy config trained for ``iters`` iterations of 8 images,
    then evaluated."""
    from mmengine.config import Config

    import muse_det  # noqa: F401
    cfg = Config.fromfile(osp.join(TOY_CONFIGS, name))
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[split] = copy.deepcopy(cfg[split])
        cfg[split].batch_size = 8
        cfg[split].dataset.data_root = data_root
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=iters)
    cfg.work_dir = work_dir
    # mmengine reuses a visualizer of the same name across
    # runners in one process.
    cfg.visualizer.name = f'visualizer_{work_dir}'
    cfg.merge_from_dict(overrides)
    return cfg


def read_scalars(work_dir: str):
    """(train records, val records) of the run's vis_data/scalars.json."""
    path = sorted(glob(osp.join(work_dir, '*', 'vis_data',
                                'scalars.json')))[-1]
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    val = [r for r in records if any(k.startswith('accuracy/') for k in r)]
    return [r for r in records if r not in val], val
