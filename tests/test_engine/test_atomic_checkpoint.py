"""Atomic checkpoint writes: SIGKILL at any moment leaves the previous
checkpoint and ``last_checkpoint`` loadable, and resuming works each time.

Real processes killed with SIGKILL, real files in tmp dirs. The processes come
from a forkserver that has imported the test modules once, so each starts in
milliseconds.
"""
import glob
import multiprocessing
import multiprocessing.forkserver
import os
import os.path as osp
import random
import time

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from test_resume import ToyDataset, train_to_the_end, train_toy

from muse_det.checkpoint import atomic_open, atomic_save, safe_load

TESTS = osp.dirname(osp.dirname(osp.abspath(__file__)))
OLD = b'old complete content\n'


@pytest.fixture(scope='module')
def processes():
    """A forkserver that has imported this module and what a Runner imports
    lazily (it ignores sys.path: PYTHONPATH tells it)."""
    ctx = multiprocessing.get_context('forkserver')
    ctx.set_forkserver_preload([
        __name__, 'torch._dynamo', 'matplotlib.figure',
        'matplotlib.backends.backend_agg'
    ])
    python_path = os.environ.get('PYTHONPATH')
    os.environ['PYTHONPATH'] = os.pathsep.join(
        filter(None, [TESTS, python_path]))
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        os.environ.pop('PYTHONPATH')
        if python_path is not None:
            os.environ['PYTHONPATH'] = python_path
    return ctx


def _write_half(path, atomic, ready):
    """Write half of a new content to ``path``, report, wait to be killed."""
    with (atomic_open(path, 'wb') if atomic else open(path, 'wb')) as f:
        f.write(b'x' * (1 << 19))
        f.flush()
        ready.set()
        time.sleep(60)


def _kill(proc):
    proc.kill()  # SIGKILL
    proc.join()


@pytest.mark.parametrize('atomic', [True, False])
def test_kill_during_write_keeps_old_file_only_when_atomic(
        tmp_path, processes, atomic):
    path = tmp_path / 'file.bin'
    path.write_bytes(OLD)
    ready = processes.Event()
    proc = processes.Process(
        target=_write_half, args=(str(path), atomic, ready))
    proc.start()
    assert ready.wait(60)
    _kill(proc)
    # plain open() leaves a torn file: the case the atomic write exists for
    assert (path.read_bytes() == OLD) is atomic


def test_atomic_open_replaces_whole_file_or_nothing(tmp_path):
    path = tmp_path / 'sub' / 'file.bin'
    with atomic_open(path, 'wb') as f:
        f.write(OLD)
    with pytest.raises(ZeroDivisionError), atomic_open(path, 'wb') as f:
        f.write(b'new')
        1 / 0
    assert path.read_bytes() == OLD and os.listdir(path.parent) == ['file.bin']
    atomic_save({'w': torch.arange(3)}, str(path))
    assert torch.equal(safe_load(str(path))['w'], torch.arange(3))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat(
    ).st_mode & 0o777 == 0o666 & ~umask  # as open() would create it


def _last_checkpoint(work_dir):
    path = osp.join(work_dir, 'last_checkpoint')
    return open(path).read().strip() if osp.exists(path) else None


def _check_loadable(work_dir):
    """``last_checkpoint`` names a complete checkpoint; every checkpoint file
    is complete."""
    last = _last_checkpoint(work_dir)
    assert last is not None and osp.isfile(
        last), f'last_checkpoint names {last!r}'
    assert safe_load(last)['meta']['iter'] == int(osp.basename(last)[5:-4])
    for path in glob.glob(osp.join(work_dir, 'iter_*.pth')):
        safe_load(path)
    return last


def test_sigkill_during_training_always_leaves_a_resumable_checkpoint(
        tmp_path, processes):
    """Train (checkpoint every iteration, 8 MB each, keep only the last) in a
    process, SIGKILL it at a random moment after each new checkpoint, check,
    resume; finally train to the end. Plain MMEngine fails it: it deletes the
    checkpoint ``last_checkpoint`` names before saving the next one, so a kill
    in between leaves nothing to resume from."""
    work_dir, max_iters, rng = str(tmp_path / 'work'), 30, random.Random(0)
    args = (work_dir, max_iters, 2 << 20, 1)
    for _ in range(5):
        before = _last_checkpoint(work_dir)
        proc = processes.Process(target=train_to_the_end, args=args)
        proc.start()
        deadline = time.time() + 60
        while _last_checkpoint(work_dir) == before and proc.is_alive():
            assert time.time() < deadline, 'no new checkpoint within 60 s'
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.15))
        _kill(proc)
        assert not osp.exists(osp.join(work_dir,
                                       'finished')), 'killed too late'
        _check_loadable(work_dir)

    proc = processes.Process(target=train_to_the_end, args=args)
    proc.start()
    proc.join(120)
    assert proc.exitcode == 0 and osp.exists(osp.join(work_dir, 'finished'))
    final = safe_load(_check_loadable(work_dir))
    assert final['meta']['iter'] == max_iters
    # five kills and resumes later, the weights of one uninterrupted run
    train_toy(tmp_path / 'uninterrupted', max_iters=max_iters)
    reference = safe_load(
        str(tmp_path / 'uninterrupted' / f'iter_{max_iters}.pth'))
    for key, value in reference['state_dict'].items():
        if key != 'pad':  # the 8 MB filler
            torch.testing.assert_close(
                final['state_dict'][key], value, rtol=0, atol=1e-6)


def test_stray_temp_files_of_a_killed_write_are_removed_by_the_next_save(
        tmp_path, processes):
    work_dir = tmp_path / 'work'
    train_toy(work_dir, max_iters=1)
    # a write of the next checkpoint killed half-way leaves its temp file
    ready = processes.Event()
    proc = processes.Process(
        target=_write_half, args=(str(work_dir / 'iter_2.pth'), True, ready))
    proc.start()
    assert ready.wait(60)
    _kill(proc)
    stray = glob.glob(str(work_dir / '.iter_2.pth.*.tmp'))
    assert len(stray) == 1 and not osp.exists(work_dir / 'iter_2.pth')
    (work_dir / 'notes.tmp').write_text('not ours')
    train_toy(work_dir, max_iters=2, resume=True)
    assert not glob.glob(str(work_dir / '.*.tmp'))
    assert (work_dir / 'notes.tmp').exists()
    assert safe_load(_last_checkpoint(work_dir))['meta']['iter'] == 2


class FailingSave(Hook):
    """Makes the ``n``-th save (counted over saves matching ``which``) fail
    before writing."""

    def __init__(self, n, which):
        self.n, self.which, self.count = n, which, 0

    def before_save_checkpoint(self, runner, checkpoint):
        if self.which(checkpoint):
            self.count += 1
            if self.count == self.n:
                raise OSError('disk full')


def test_a_failed_save_removes_no_kept_checkpoint(tmp_path):
    """max_keep_ckpts=1: MMEngine deletes iter_2 before writing iter_3; here it
    stays, and last_checkpoint names it."""
    work_dir = tmp_path / 'work'
    fail = FailingSave(3, lambda ckpt: True)
    with pytest.raises(OSError, match='disk full'):
        train_toy(
            work_dir,
            max_iters=5,
            hooks=[fail],
            checkpoint=dict(max_keep_ckpts=1))
    assert not glob.glob(str(
        work_dir / '.*.tmp'))  # the failed write cleaned up after itself
    assert glob.glob(str(work_dir /
                         'iter_*.pth')) == [str(work_dir / 'iter_2.pth')]
    assert _last_checkpoint(work_dir) == str(work_dir / 'iter_2.pth')


class IterationScore(BaseMetric):
    """Validation score = number of validations so far: every validation is the
    best."""

    def __init__(self):
        super().__init__()
        self.validations = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        self.validations += 1
        return dict(score=self.validations)


def test_a_failed_best_checkpoint_save_keeps_the_previous_best(tmp_path):
    """MMEngine removes the previous best checkpoint before writing the new
    one."""
    work_dir = tmp_path / 'work'
    best_saves = FailingSave(
        2, lambda ckpt: 'optimizer' not in ckpt)  # best: no optimizer
    with pytest.raises(OSError, match='disk full'):
        train_toy(
            work_dir,
            max_iters=4,
            hooks=[best_saves],
            train_cfg=dict(by_epoch=False, max_iters=4, val_interval=1),
            val_dataloader=dict(
                dataset=ToyDataset(4),
                batch_size=4,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate')),
            val_cfg=dict(),
            val_evaluator=[IterationScore()],
            checkpoint=dict(save_best='score', rule='greater'))
    best = glob.glob(str(work_dir / 'best_*.pth'))
    assert [osp.basename(p) for p in best] == ['best_score_iter_1.pth']
    assert safe_load(best[0])['meta']['iter'] == 1
