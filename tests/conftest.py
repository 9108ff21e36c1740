"""Shared fixtures: a tiny real toy COCO set on disk; one torch thread; a fresh
default scope per test."""
import os

import pytest
import torch
from cls_helpers import toy_cifar, toy_maker  # noqa: F401 (fixtures)
from muse_test_utils import load_tool

os.environ.setdefault('OMP_NUM_THREADS', '2')


@pytest.fixture(scope='session')
def toy_coco(tmp_path_factory):
    """A real toy COCO set (JPEG files + instances json with polygons): 8
    train, 4 val."""
    out = tmp_path_factory.mktemp('toy_coco')
    maker = load_tool('tools/misc/make_toy_coco.py')
    maker.make_toy_coco(
        str(out),
        num_train=8,
        num_val=4,
        size=256,
        seed=0,
        variant='easy',
        log_every=0)
    return str(out)


@pytest.fixture
def one_thread():
    """Convolutions on a shared 2-core machine: 2 threads are up to 50x
    slower than 1."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _fresh_default_scope():
    """Each test sets the default scope it builds in (mmdet, mmpretrain),
    whatever the previous test set."""
    yield
    try:
        from mmengine.registry import DefaultScope
        DefaultScope._instance_dict.clear()
    except ImportError:
        pass
