"""Train a detector or classifier (with or without MUSE) from a config, as
mmdet's train.py.

    python tools/train.py CONFIG [--work-dir DIR] [--amp] [--resume [CKPT]] [--auto-scale-lr]
                                 [--cfg-options k=v ...] [--launcher none|pytorch|slurm]
"""  # noqa: E501 (usage lines)
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from muse_det.utils.config_checks import check_config  # noqa: E402
from muse_det.utils.launch import enable_amp  # noqa: E402
from muse_det.utils.launch import (build_runner, load_config, parse_tool_args,
                                   run_cli, setup_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model (muse-det)')
    parser.add_argument(
        'config', help='config file path (or mmdet::/muse_det:: path)')
    parser.add_argument(
        '--work-dir', help='where to save logs and checkpoints')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: fp16 on CUDA, bf16 autocast on CPU')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by total batch / base_batch_size')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT, or from the latest checkpoint in work_dir '
        'if no path is given')
    return parse_tool_args(parser, argv, 'train_cfg.max_iters=100')


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.launcher,
                      args.work_dir)
    if args.amp:
        enable_amp(cfg)
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise SystemExit(
                '--auto-scale-lr needs '
                '`auto_scale_lr = dict(base_batch_size=N)` in the config (the '
                'batch size its learning rate was set for).')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise SystemExit(f'--resume: checkpoint not found: {args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    check_config(cfg, training=True)
    setup_distributed(cfg)
    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    run_cli(main)
