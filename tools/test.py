"""Evaluate a checkpoint (MUSE or plain) with the config's test evaluator, as
mmdet's test.py.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                         [--show-dir DIR] [--cfg-options k=v ...] [--launcher ...]

``--out`` keeps the predictions (mmdet's ``DumpDetResults`` for detectors,
mmengine's ``DumpResults`` for mmpretrain classifiers);
``--show``/``--show-dir`` draw detections.

A MUSE config evaluates its wrapped detector or classifier unchanged; the
exported plain checkpoint evaluated with the base mmdet or mmpretrain config
gives the same metrics.
"""  # noqa: E501 (usage lines)
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmdet.datasets import BaseDetDataset  # noqa: E402

from muse_det.registry import DATASETS  # noqa: E402
from muse_det.utils.config_checks import check_config  # noqa: E402
from muse_det.utils.launch import load_config  # noqa: E402
from muse_det.utils.launch import (build_runner, parse_tool_args, run_cli,
                                   setup_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test (evaluate) a model (muse-det)')
    parser.add_argument(
        'config', help='config file path (or mmdet::/muse_det:: path)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save the evaluation logs')
    parser.add_argument(
        '--out', help='dump predictions to a pickle file (.pkl)')
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window')
    parser.add_argument(
        '--show-dir',
        help='save images with drawn predictions to this '
        'folder (inside work_dir/timestamp)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='--show interval (s)')
    return parse_tool_args(parser, argv, 'test_evaluator.classwise=True')


def is_detection(cfg) -> bool:
    """Whether the test set is an mmdet detection dataset
    (else classification)."""
    dataset = cfg.test_dataloader.dataset
    while isinstance(dataset, dict):
        kind = dataset.get('type')
        # the registry of the dataset's scope (mmdet, mmpretrain, ...), as the
        # runner builds it
        scope = dataset.get('_scope_', cfg.get('default_scope', None))
        with DATASETS.switch_scope_and_registry(scope) as registry:
            cls = registry.get(kind) if isinstance(kind, str) else kind
        if isinstance(cls, type) and issubclass(cls, BaseDetDataset):
            return True
        # wrappers (RepeatDataset, ClassBalancedDataset,
        # ConcatDataset): look inside
        inner = dataset.get('dataset', (dataset.get('datasets') or [None])[0])
        dataset = inner
    return False


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    work_dir = args.work_dir
    cfg = load_config(args.config, args.cfg_options, args.launcher, work_dir)
    cfg.load_from = args.checkpoint
    detection = is_detection(cfg)
    if (args.show or args.show_dir) and not detection:
        raise SystemExit(
            '--show/--show-dir draw detections; this config evaluates a '
            'classifier (use --out to keep its predictions)')
    if args.show or args.show_dir:
        hooks = cfg.setdefault('default_hooks', {})
        vis = hooks.get('visualization',
                        None) or dict(type='DetVisualizationHook')
        vis.update(draw=True, show=args.show, wait_time=args.wait_time)
        if args.show_dir:
            vis['test_out_dir'] = args.show_dir
        hooks['visualization'] = vis
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise SystemExit('--out must be a .pkl or .pickle file')
        cfg.test_evaluator = ([cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, dict) else list(cfg.test_evaluator))
        dump = 'DumpDetResults' if detection else 'DumpResults'
        cfg.test_evaluator.append(dict(type=dump, out_file_path=args.out))
    check_config(cfg, training=False)
    setup_distributed(cfg)
    runner = build_runner(cfg)
    metrics = runner.test()
    return metrics


if __name__ == '__main__':
    run_cli(main)
