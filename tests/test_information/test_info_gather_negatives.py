"""gather_negatives: each rank scores its positives against the
targets of every rank.

Two gloo processes (CPU) with DDP, each holding half of a batch, against one
process with the whole batch: the same MI estimate and the same gradients."""
import datetime
import faulthandler
import math
import os
import os.path as osp
import signal
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
from muse_test_utils import wait_for_ranks

from muse_det.information import CRDDistillLoss, MUSELoss
from muse_det.information.mutual_information import (DVEstimator,
                                                     InfoNCEEstimator,
                                                     JSDEstimator)
from muse_det.information.mutual_information.base import negative_log_mean_exp

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow

HERE = osp.dirname(osp.abspath(__file__))
BATCH = 4
# a rank prints this once it holds the process group; until then it is
# starting (importing torch can take minutes on a busy machine), not hung
READY = 'process group ready'
CASES = {
    'muse-jsd': (MUSELoss, dict(variant='additive', entropy_weight=0.0)),
    'muse-infonce':
    (MUSELoss,
     dict(variant='additive', entropy_weight=0.0, mi_estimator='infonce')),
    'crd': (CRDDistillLoss, {}),
}


def _loss(name, gather):
    cls, kwargs = CASES[name]
    torch.manual_seed(0)
    # all locations, in order (no random draw); Linear adapters (BatchNorm
    # statistics would be each rank's own)
    return cls(
        8,
        16,
        num_samples='all',
        adapter='linear',
        embed_dim=16,
        gather_negatives=gather,
        **kwargs).train()


def _batch():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(BATCH, 8, 4, 4, generator=g)
    t = torch.randn(BATCH, 16, 2, 2, generator=g)
    # something to find
    s = s + torch.nn.functional.interpolate(t[:, :8], scale_factor=2.0)
    return s, t


def _step(loss, s, t):
    out = loss(s, t)
    out['loss'].backward()
    mi = out.get('mi', -out['loss']).detach()
    return mi, {n: p.grad.clone() for n, p in loss.named_parameters()}


def _worker(rank, world, port, name, gather, path):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    # the test asks a stuck rank for its stack (SIGUSR1) before killing it
    faulthandler.register(signal.SIGUSR1)
    # the test's progress watch decides when a rank is hung; the group's own
    # timeout only has to outlast a peer that is still starting
    dist.init_process_group(
        'gloo',
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=900))
    print(f'[rank {rank}] {READY}', flush=True)
    try:
        loss = _loss(name, gather)
        ddp = torch.nn.parallel.DistributedDataParallel(loss)
        s, t = _batch()
        part = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
        mi, grads = _step(ddp, s[part], t[part])
        print(f'[rank {rank}] stepped', flush=True)
        dist.all_reduce(mi)
        if rank == 0:  # DDP has averaged the gradients over the ranks
            torch.save(
                dict(
                    mi=mi / world,
                    grads={
                        k.removeprefix('module.'): v
                        for k, v in grads.items()
                    }), path)
        # DDP's reducer is torn down while every rank still holds the group:
        # a rank that exits first can leave the other's gloo teardown
        # waiting for it for ever
        del ddp
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _two_ranks(name, gather, tmp_path):
    """Two processes as a launcher starts them (their own stdout/stderr:
    pytest's captured file descriptors are not shared with them)."""
    path = str(tmp_path / f'{name}-{gather}.pt')
    port = _free_port()
    code = (
        f'import sys; sys.path[:0] = {[HERE, osp.dirname(HERE)]!r}; '
        f'import test_info_gather_negatives as t; '
        f't._worker(int(sys.argv[1]), 2, {port}, {name!r}, {gather}, {path!r})'
    )
    logs = [tmp_path / f'{name}-{gather}-rank{rank}.log' for rank in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, '-c', code, str(rank)],
            stdout=log.open('w'),
            stderr=subprocess.STDOUT) for rank, log in enumerate(logs)
    ]
    try:
        wait_for_ranks(procs, logs, READY)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return torch.load(path)


@pytest.mark.parametrize('name', sorted(CASES))
def test_two_ranks_gathering_negatives_match_one_process(name, tmp_path):
    mi, grads = _step(_loss(name, False), *_batch())
    gathered = _two_ranks(name, True, tmp_path)
    assert torch.allclose(
        gathered['mi'], mi, rtol=1e-5, atol=1e-6), (gathered['mi'], mi)
    assert grads.keys() == gathered['grads'].keys()
    for key, grad in grads.items():
        assert torch.allclose(
            gathered['grads'][key], grad, rtol=1e-4, atol=1e-6), key
    # without the option: rank-local negatives, another estimate
    if name == 'muse-infonce':
        local = _two_ranks(name, False, tmp_path)
        assert not torch.allclose(local['mi'], mi, rtol=1e-3)


def test_row_blocks_of_one_score_matrix():
    """The rows of a global matrix with positives at their offset: JSD and
    InfoNCE average to the square estimate; DV's negatives are exactly the
    block's off-positive entries."""
    scores = torch.randn(6, 6) + 3 * torch.eye(6)
    blocks = [(scores[:2], 0), (scores[2:4], 2), (scores[4:], 4)]
    for estimator in (JSDEstimator(), InfoNCEEstimator()):
        mean = sum(estimator(rows, offset) for rows, offset in blocks) / 3
        assert torch.allclose(mean, estimator(scores), atol=1e-6)
    assert InfoNCEEstimator()(scores[2:4], 2) <= math.log(6)
    rows, offset = blocks[1]
    negatives = torch.cat([rows[0, [0, 1, 3, 4, 5]], rows[1, [0, 1, 2, 4, 5]]])
    expected = rows.diagonal(offset).mean() - (
        negatives.logsumexp(0) - math.log(10))
    assert torch.allclose(DVEstimator()(rows, offset), expected, atol=1e-6)
    assert torch.allclose(
        negative_log_mean_exp(rows, offset),
        negatives.logsumexp(0) - math.log(10),
        atol=1e-6)
