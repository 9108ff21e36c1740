#!/usr/bin/env python
"""Pretrain the toy detectors' backbone by image classification and save it
as an mmpretrain checkpoint, the way a COCO detector starts from ImageNet.

Makes the classification set if it is missing (tools/misc/make_toy_pretrain.py),
trains ``configs/toy/pretrain/resnet18-quarter_toy-pretrain.py`` with
mmpretrain on a real Runner, reports its validation top-1, and writes the
classifier's weights (``state_dict`` with ``backbone.``/``neck.``/``head.``
keys, plus plain ``meta``; loadable with ``weights_only=True``) to ``--out``
through a temporary file, so an interrupted run never leaves a half-written
checkpoint. Detection configs load the backbone part with
``init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=...)``.

A pure function of the arguments and the seed: the same command gives the
same weights on the same machine and library versions. The run is pinned to
``--threads`` torch threads (default 1), since the weights depend on how a
convolution's sums are split across threads: the benchmark, which pretrains
where its task needs the file, then makes the same file as this command.

    python tools/misc/pretrain_toy_backbone.py                     # data/toy_pretrain/resnet18-quarter_toy-pretrain.pth
    python tools/misc/pretrain_toy_backbone.py --iters 50 --per-class 10 --data /tmp/pt --out /tmp/pt/r18.pth
"""  # noqa: E501 (usage lines)
import argparse
import os
import os.path as osp
import sys
import tempfile
import time

import torch
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tools', 'misc'))

from make_toy_pretrain import CLASSES, make_toy_pretrain  # noqa: E402

from muse_det.utils.launch import build_runner  # noqa: E402

CONFIG = 'configs/toy/pretrain/resnet18-quarter_toy-pretrain.py'
DEFAULT_OUT = 'data/toy_pretrain/resnet18-quarter_toy-pretrain.pth'


def ensure_pretrain_data(data: str, per_class: int, val_per_class: int,
                         seed: int) -> None:
    """Write the set at ``data`` unless a complete one is there (its
    ``classes.txt`` is written last)."""
    if osp.isfile(osp.join(data, 'classes.txt')):
        return
    print(f'[pretrain] writing the pretraining set to {data}', flush=True)
    make_toy_pretrain(data, per_class, val_per_class, seed, log_every=1000)


def pretrain(out: str = DEFAULT_OUT,
             data: str = 'data/toy_pretrain',
             iters=None,
             per_class: int = 1000,
             val_per_class: int = 100,
             seed: int = 0,
             work_dir=None,
             threads: int = 1) -> dict:
    """Make the set if needed, train on ``threads`` torch threads (the
    caller's count is restored after), save the weights to ``out``.

    Args:
        out (str): the checkpoint to write.
        data (str): the classification set (made here when missing).
        iters (int, optional): training iterations; the config's if None.
        per_class (int): training crops a class, when the set is made.
        val_per_class (int): validation crops a class, when it is made.
        seed (int): the set's and the training's seed.
        work_dir (str, optional): the runner's folder; a temporary one if
            None.
        threads (int): torch CPU threads for the training; the weights
            depend on it.

    Returns:
        dict: ``top1`` (validation top-1, %), ``iters``, ``out``.
    """
    ensure_pretrain_data(data, per_class, val_per_class, seed)
    caller_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train_and_save(out, data, iters, seed, work_dir, threads)
    finally:
        torch.set_num_threads(caller_threads)


def _train_and_save(out, data, iters, seed, work_dir, threads) -> dict:
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        loader.dataset.data_root = data
    if iters is not None:
        cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = iters
        cfg.param_scheduler[0].end = min(cfg.param_scheduler[0].end,
                                         max(iters // 10, 1))
        cfg.param_scheduler[1].update(
            begin=cfg.param_scheduler[0].end,
            end=iters,
            T_max=max(iters - cfg.param_scheduler[0].end, 1))
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.default_hooks.checkpoint = None  # the weights are saved below
    cfg.work_dir = work_dir or tempfile.mkdtemp(prefix='pretrain_toy_')
    runner = build_runner(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    top1 = float(metrics['accuracy/top1'])
    state = {
        k: v.detach().cpu().clone()
        for k, v in runner.model.state_dict().items()
    }
    meta = dict(
        config=CONFIG,
        # CustomDataset numbers the class folders in sorted order
        classes=sorted(CLASSES),
        iters=int(cfg.train_cfg.max_iters),
        seed=int(seed),
        val_top1=top1,
        threads=int(threads),
        torch=str(torch.__version__))
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix='tmp-pretrain-',
        suffix='.pth',
        dir=osp.dirname(osp.abspath(out)))
    try:
        # saved through the open file: torch.save names the archive inside
        # after a path it is given (here a random one), so the same weights
        # would give other bytes
        with os.fdopen(fd, 'wb') as f:
            torch.save(dict(state_dict=state, meta=meta), f)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep other users out
        os.replace(tmp, out)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return dict(top1=top1, iters=meta['iters'], out=out)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0])
    parser.add_argument('--out', default=DEFAULT_OUT)
    parser.add_argument(
        '--data',
        default='data/toy_pretrain',
        help='the pretraining set (made when missing)')
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help='training iterations (default: the config\'s, 3000)')
    parser.add_argument('--per-class', type=int, default=1000)
    parser.add_argument('--val-per-class', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch CPU threads; the weights depend on it (default 1, the '
        'count the benchmark pretrains with)')
    parser.add_argument('--work-dir', default=None)
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 1:
        parser.error('--iters must be >= 1')
    if args.threads < 1:
        parser.error('--threads must be >= 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    res = pretrain(args.out, args.data, args.iters, args.per_class,
                   args.val_per_class, args.seed, args.work_dir, args.threads)
    print(f'[pretrain] {res["iters"]} iterations in {time.time() - t0:.0f} '
          f's: validation top-1 {res["top1"]:.2f} % over {len(CLASSES)} '
          f'classes; backbone weights in {res["out"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
