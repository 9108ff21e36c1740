"""Every command shown in the README and docs/ is exercised, so the
docs cannot rot.

Each command of a ```bash block is either run here, as written, on toy data
(options appended only to shrink it: fewer images, iterations, repeats), or run
by a named test or by CI, or needs what a CPU test machine lacks (a CUDA build,
a GPU, slurm): every command must be in exactly one of those tables, so a
command added to the docs without being exercised fails this test.

The documented commands run in a sandbox folder that links the repository's
code (tools/, configs/, .venv, ...) and keeps its own data/ and work_dirs/, so
they read and write exactly the relative paths the docs show.
"""
import glob
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest
from muse_test_utils import ROOT

# end-to-end runs (a real Runner): deselect with -m "not slow"
pytestmark = pytest.mark.slow

DOCS = [
    'README.md', *sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'docs', '*.md')))
]


def documented_commands():
    """``[(doc, command)]`` of every ```bash block, continuation lines joined,
    comments cut."""
    found = []
    for doc in DOCS:
        with open(osp.join(ROOT, doc)) as f:
            text = f.read()
        for block in re.findall(r'```bash\n(.*?)```', text, re.S):
            for line in block.replace('\\\n', ' ').splitlines():
                command = re.sub(r'\s+', ' ',
                                 line.split('  #')[0].split(' # ')[0]).strip()
                if command:
                    found.append((doc, command))
    return found


# Run by another test, or by CI: command -> 'file::function'
# (checked to exist) or '.ci/run'.
ELSEWHERE = {
    'bash tools/run_tests.sh':
    '.ci/run',
    'bash tools/setup_env.sh':
    '.ci/run',
    '. .venv/bin/activate':
    '.ci/run',
    'python tools/train.py configs/muse/muse_faster-rcnn_r50_fpn_1x_coco.py '
    '[--work-dir DIR] [--amp] [--resume [CKPT]] [--auto-scale-lr] '
    '[--cfg-options k=v ...]':
    'tests/test_tools/test_tools.py::test_resume_continues_from_the_last_checkpoint',  # noqa: E501
    'python tools/test.py CONFIG work_dirs/.../epoch_12.pth [--out preds.pkl] '
    '[--show-dir vis]':
    'tests/test_tools/test_tools.py::test_muse_checkpoint_equals_plain_export',
    'python tools/export.py work_dirs/.../epoch_12.pth plain.pth':
    'tests/test_tools/test_tools.py::test_export_has_no_distillation_keys_and_loads_in_mmdet',  # noqa: E501
    'bash tools/dist_train.sh CONFIG 8 [options]':
    'tests/test_utils/test_ddp.py::test_two_process_cpu_ddp_matches_one_process',  # noqa: E501
}
# Needs a CUDA machine, slurm or the CUDA wheel index: what a CPU test
# machine cannot run.
NOT_HERE = {
    'GPUS=16 bash tools/slurm_train.sh PARTITION JOB CONFIG WORK_DIR':
    'slurm cluster',
    'python -m venv .venv && . .venv/bin/activate':
    'CUDA install recipe',
    'pip install torch==2.13.0 torchvision==0.28.0 --index-url '
    'https://download.pytorch.org/whl/cu128':
    'CUDA install recipe',
    'nvcc --version':
    'a CUDA toolkit',
    'pip install "setuptools>=77.0.3,<81" wheel':
    'CUDA install recipe',
    'MMCV_WITH_OPS=1 pip install --no-build-isolation mmcv==2.1.0':
    'CUDA install recipe',
    'pip install -r requirements/mminstall.txt -r requirements/tests.txt '
    '-r requirements/optional.txt':
    'CUDA install recipe',
    'pip install --no-build-isolation --no-deps -e .':
    'CUDA install recipe',
    'python tools/analysis_tools/benchmark_overhead.py --device cuda --steps '
    '50':
    'a GPU',
    'pip install -r requirements/cls.txt':
    'CUDA install recipe',
    # installing into an existing environment: tools/check_compat.sh does it
    # in a fresh one (an older torch and mmcv), with mim
    'pip install -e ".[cls]"':
    'changes the running environment; tools/check_compat.sh runs it',
    'bash tools/check_compat.sh':
    'builds a second environment from nothing (mmcv from source)',
    'mim train muse_det configs/toy/muse_fcos_r18_toy_coco_multiscale.py '
    '--work-dir work_dirs/mim --cfg-options train_cfg.max_iters=100':
    'needs openmim; tools/check_compat.sh runs it',
    'mim test muse_det configs/toy/muse_fcos_r18_toy_coco_multiscale.py '
    '--checkpoint work_dirs/mim/iter_100.pth':
    'needs openmim; tools/check_compat.sh runs it',
}

# Run below, in this order, as written plus these shrinking arguments.
TRAIN_SHRINK = [
    'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
    'default_hooks.logger.interval=1'
]
TOY_COCO = ['--num-train', '8', '--num-val', '4']
RUN = [
    ('python tools/misc/make_toy_coco.py', TOY_COCO),
    ('python tools/misc/make_toy_coco.py --variant hard', TOY_COCO),
    ('python tools/misc/make_toy_coco.py --variant multiscale', TOY_COCO),
    ('python tools/train.py configs/toy/fcos_r18_toy_coco_multiscale.py',
     ['--cfg-options', *TRAIN_SHRINK]),
    ('python tools/misc/make_toy_cifar.py',
     ['--num-train', '40', '--num-test', '20']),
    ('bash tools/demo.sh', ['--cfg-options', *TRAIN_SHRINK]),
    ('python tools/train.py configs/toy/muse_fcos_r18_toy_coco.py '
     '--cfg-options model.loss._delete_=True model.loss.type=l2 '
     'model.loss.num_samples=128', TRAIN_SHRINK),
    ('python tools/test.py configs/toy/muse_fcos_r18_toy_coco_multiscale.py '
     'work_dirs/demo/iter_3000.pth', []),
    ('python tools/export.py work_dirs/demo/iter_3000.pth plain.pth', []),
    ('python tools/test.py configs/toy/fcos_r18_toy_coco_multiscale.py '
     'plain.pth', []),
    ('python tools/train.py configs/classification/toy/resnet18_toy_cifar.py',
     ['--cfg-options', *TRAIN_SHRINK]),
    ('python tools/train.py '
     'configs/classification/toy/muse_resnet18_toy_cifar.py',
     ['--cfg-options', *TRAIN_SHRINK]),
    ('python tools/train.py '
     'configs/classification/toy/muse-offline_resnet18_toy_cifar.py', [
         '--cfg-options', *TRAIN_SHRINK,
         'model.teacher_ckpt=work_dirs/resnet18_toy_cifar/iter_2.pth'
     ]),
    ('python tools/train.py '
     'configs/classification/toy/muse-online_resnet18_toy_cifar.py',
     ['--cfg-options', *TRAIN_SHRINK]),
    ('python tools/test.py '
     'configs/classification/toy/muse-online_resnet18_toy_cifar.py '
     'work_dirs/muse-online_resnet18_toy_cifar/iter_150.pth --out preds.pkl',
     []),
    ('python tools/export.py '
     'work_dirs/muse-online_resnet18_toy_cifar/iter_150.pth plain_cls.pth',
     []),
    ('python tools/test.py configs/classification/toy/resnet18_toy_cifar.py '
     'plain_cls.pth', []),
    ('python tools/train.py configs/toy/muse_fcos_r18_toy_coco.py '
     '--work-dir work_dirs/info_plot/muse', ['--cfg-options', *TRAIN_SHRINK]),
    ('python tools/train.py configs/toy/muse_fcos_r18_toy_coco.py '
     '--work-dir work_dirs/info_plot/l2 --cfg-options '
     'model.loss._delete_=True model.loss.type=l2 model.loss.num_samples=128',
     TRAIN_SHRINK),
    ('python tools/analysis_tools/plot_information.py '
     'work_dirs/info_plot/muse '
     'work_dirs/info_plot/l2 --labels MUSE L2 --smooth 5 --out '
     'information_curves.png', []),
    ('python tools/train.py '
     'configs/classification/toy/muse_resnet18_toy_cifar.py --work-dir '
     'work_dirs/info_plot_cls/muse --cfg-options model.loss.variant=additive '
     'model.loss.mi_estimator=jsd', TRAIN_SHRINK),
    ('python tools/train.py '
     'configs/classification/toy/muse_resnet18_toy_cifar.py --work-dir '
     'work_dirs/info_plot_cls/l2 --cfg-options model.loss._delete_=True '
     'model.loss.type=l2 model.loss.pool=False model.loss.grid=4 '
     'model.loss.num_samples=16', TRAIN_SHRINK),
    ('python tools/train.py configs/classification/toy/resnet18_toy_cifar.py '
     '--work-dir work_dirs/info_plot_cls/none',
     ['--cfg-options', *TRAIN_SHRINK]),
    ('python tools/analysis_tools/plot_information.py '
     'work_dirs/info_plot_cls/muse '
     'work_dirs/info_plot_cls/l2 work_dirs/info_plot_cls/none --labels "MUSE '
     '(additive)" L2 "no distillation" --metric accuracy/top1 --out '
     'docs/images/information_curves_cls.png', []),
    ('python tools/analysis_tools/plot_information.py '
     'work_dirs/info_plot/muse '
     'work_dirs/info_plot/l2 --labels "MUSE (additive)" "L2 baseline" '
     '--smooth 5 --out docs/images/information_curves.png', []),
    ('python tools/analysis_tools/benchmark_estimators.py --device cpu '
     '--threads 1 '
     '--estimators jsd dv infonce gaussian coding_rate knn edgeworth '
     'critic:separable critic:concat',
     ['--dims', '4', '--samples', '32', '--repeats', '1']),
    ('python tools/analysis_tools/benchmark_coco_eval.py --images 5000 '
     '--classes 80 '
     '--repeats 3', ['--images', '20', '--classes', '3', '--repeats', '1']),
    ('python tools/analysis_tools/benchmark_overhead.py --sizes 320 --steps '
     '20 --warmup 2', [
         '--models', 'retinanet', '--sizes', '64', '--steps', '1', '--warmup',
         '0'
     ]),
    # one image: P7 (stride 128) needs 256 px for the 2 samples a critic needs
    ('python tools/analysis_tools/benchmark_overhead.py --sizes 800 '
     '--batch-size 1 --steps '
     '20 --warmup 2', [
         '--models', 'retinanet', '--sizes', '256', '--steps', '1', '--warmup',
         '0'
     ]),
    ('python tools/analysis_tools/benchmark_overhead.py --models toy-fcos '
     'toy-classifier '
     'cifar-resnet18 --steps 15 --warmup 3 --threads 2', [
         '--models', 'toy-classifier', '--batch-size', '4', '--steps', '1',
         '--warmup', '0'
     ]),
    ('python tools/analysis_tools/benchmark_methods.py --det-iters 150 '
     '--threads 2 '
     '--results work_dirs/benchmark_methods/results.jsonl', [
         '--tasks', 'cls', '--methods', 'none', 'muse', '--seeds', '0',
         '--cls-iters', '2'
     ]),
    ('python tools/analysis_tools/benchmark_methods.py --tasks cls --threads '
     '1 --grad-stats '
     '10 --results work_dirs/benchmark_methods/results_v3.jsonl',
     ['--methods', 'none', 'muse', '--seeds', '0', '--cls-iters', '2']),
    ('python tools/analysis_tools/benchmark_estimators.py --estimators '
     'gaussian --dims 16 '
     '--samples 256 --threads 1 --view-study', ['--repeats', '1']),
    *[(f'python tools/analysis_tools/benchmark_methods.py '
       f'--tasks det {run} --results '
       f'work_dirs/ablation/{results} --methods {methods} --settings '
       f'{settings}', ['--seeds', '0', '--det-iters', '2'])
      for run, results, methods, settings in
      (('--threads 1 --seeds 0 1 2', 'det.jsonl', 'none muse', 'fpn-deepest'),
       ('--threads 1 --seeds 0 1 2 3 4', 'det.jsonl', 'none muse',
        'backbone-layer4'),
       ('--threads 1 --seeds 0 1 2', 'det.jsonl', 'muse', 'fpn-head'),
       ('--threads 1 --seeds 0 1 2', 'det.jsonl', 'muse', 'fpn-head box4'),
       ('--threads 1 --seeds 0 1 2 3 4', 'det.jsonl', 'muse-mul crd',
        'backbone-layer4'), ('--threads 1 --seeds 0 1 2 3 4', 'det.jsonl',
                             'l2 cosine', 'backbone-layer4'),
       ('--threads 1 --seeds 0 1 2 3 4', 'det.jsonl', 'at nst vid',
        'backbone-layer4'), ('--threads 1 --seeds 0 1 2', 'det.jsonl', 'muse',
                             'backbone-layer4 w3'),
       ('--threads 1 --seeds 0 1 2', 'det.jsonl', 'muse',
        'backbone-layer4 infonce'), ('--threads 1 --seeds 0 1 2', 'det.jsonl',
                                     'muse-mul', 'backbone-layer4 w0.3'),
       ('--threads 1 --seeds 0 1 2', 'det.jsonl', 'muse',
        'backbone-layer4 mi-only'), ('--threads 1 --seeds 0 1 2', 'det.jsonl',
                                     'muse', 'backbone-layer4 entropy-only'),
       ('--threads 1 --seeds 0 1 2 3 4', 'det.jsonl', 'muse-mul',
        'backbone-layer4 no-warmup'),
       ('--det-iters 6000 --threads 1 --seeds 0', 'det_long.jsonl',
        'none muse', 'backbone-layer4'))],
    ('python tools/analysis_tools/benchmark_methods.py --tasks det --table '
     '--results '
     'work_dirs/ablation/det.jsonl', []),
    # a 4-iteration run validated every 2 keeps a curve, which the table shows
    ('python tools/analysis_tools/benchmark_methods.py --tasks det '
     '--det-iters 6000 --curve '
     '1200 --threads 1 --seeds 1 --results work_dirs/ablation/det_long.jsonl '
     '--methods none muse-mul --settings backbone-layer4',
     ['--seeds', '0', '--det-iters', '4', '--curve', '2']),
    ('python tools/analysis_tools/benchmark_methods.py --tasks det '
     '--det-iters 12000 --curve '
     '2400 --threads 1 --seeds 1 --results work_dirs/ablation/det_long.jsonl '
     '--methods none muse-mul --settings backbone-layer4',
     ['--seeds', '0', '--det-iters', '2', '--methods', 'none']),
    ('python tools/analysis_tools/benchmark_methods.py --tasks det --table '
     '--results '
     'work_dirs/ablation/det_long.jsonl', []),
    # the long benchmark: its own config's 12000 iterations, shrunk to 4
    *[(f'python tools/analysis_tools/benchmark_methods.py '
       f'--tasks det-long --curve 2400 '
       f'--threads 1 --seeds {seeds} --results '
       f'work_dirs/ablation/det-long.jsonl --methods {methods}',
       ['--seeds', '0', '--det-iters', '4', '--curve', '2'])
      for seeds, methods in (('0 1 2 3 4', 'none muse-mul'),
                             ('0 1 2 3 4', 'cosine'), ('0 1 2 3 4', 'l2'),
                             ('0 1 2 3 4', 'muse vid'))],
    ('python tools/analysis_tools/benchmark_methods.py --tasks det-long '
     '--table --results '
     'work_dirs/ablation/det-long.jsonl', []),
    # the step schedule: its milestones shrink with the run
    *[(f'python tools/analysis_tools/benchmark_methods.py '
       f'--tasks det-step --curve 1200 '
       f'--threads 1 --seeds 0 1 2 3 4 --results '
       f'work_dirs/ablation/det-step.jsonl --methods {methods}',
       ['--seeds', '0', '--det-iters', '4', '--curve', '2'])
      for methods in ('none muse-mul', 'cosine l2', 'vid', 'crd nst at',
                      'muse-mul cosine --settings no-warmup')],
    ('python tools/analysis_tools/benchmark_methods.py --tasks det-step '
     '--table --results '
     'work_dirs/ablation/det-step.jsonl', []),
    # from scratch on the test split: plain, MUSE, the placebo and the
    # plain sweep
    *[(f'python tools/analysis_tools/benchmark_methods.py '
       f'--tasks det-step --curve 1200 '
       f'--threads 1 --seeds {seeds} --results docs/results/det-step.jsonl '
       f'--methods {methods}',
       ['--seeds', '0', '--det-iters', '4', '--curve', '2'])
      for seeds, methods in (('0 1 2 3 4', 'none muse-mul'),
                             ('0 1 2 3 4', 'muse-mul --settings placebo'),
                             ('0 1 2 3 4', 'none --settings lr0.5'),
                             ('0', 'none --settings lr2'),
                             ('0', 'none --settings gn-backbone'),
                             ('0', 'l2 cosine vid crd nst --settings w0.1'),
                             ('0', 'l2 cosine vid crd nst'),
                             ('0', 'l2 cosine vid crd --settings w10'),
                             ('1 2 3 4', 'vid crd --settings w0.1'),
                             ('1 2 3 4', 'l2 cosine'))],
    *[(f'python tools/analysis_tools/benchmark_methods.py --tasks det-step '
       f'--table {split}--results docs/results/det-step.jsonl', [])
      for split in ('', '--split val ')],
    # the pretrained regime: the backbone pretraining shrunk to 2
    # iterations on 2 crops a class, then the benchmark on its checkpoint
    ('python tools/misc/pretrain_toy_backbone.py',
     ['--iters', '2', '--per-class', '2', '--val-per-class', '1']),
    *[(f'python tools/analysis_tools/benchmark_methods.py '
       f'--tasks det-pre --curve 1200 '
       f'--threads 1 --seeds 0 1 2 3 4 --results docs/results/det-pre.jsonl '
       f'--methods {methods}',
       ['--seeds', '0', '--det-iters', '4', '--curve', '2'])
      for methods in ('none muse-mul', 'muse-mul --settings w1',
                      'none --settings lr0.5', 'none --settings lr2',
                      'muse-mul --settings w0.3')],
    # a probe on one seed
    ('python tools/analysis_tools/benchmark_methods.py --tasks det-pre '
     '--curve 1200 '
     '--threads 1 --seeds 0 --results docs/results/det-pre.jsonl '
     '--methods muse-mul --settings w1 long-warmup',
     ['--seeds', '0', '--det-iters', '4', '--curve', '2']),
    ('python tools/analysis_tools/benchmark_methods.py --tasks det-pre '
     '--table --results '
     'docs/results/det-pre.jsonl', []),
    ('python tools/analysis_tools/benchmark_methods.py --tasks det-pre '
     '--table --split val --results '
     'docs/results/det-pre.jsonl', []),
    ('python tools/analysis_tools/benchmark_methods.py --tasks det-retina '
     '--curve 600 '
     '--threads 1 --seeds 0 1 2 3 4 --results '
     'work_dirs/ablation/det-retina.jsonl --methods none muse-mul',
     ['--seeds', '0', '--det-iters', '4', '--curve', '2']),
    ('python tools/analysis_tools/benchmark_methods.py --tasks det-retina '
     '--table --results '
     'work_dirs/ablation/det-retina.jsonl', []),
    ('python tools/analysis_tools/benchmark_overhead.py --models '
     'toy-fcos-multiscale '
     'toy-classifier --losses muse-mul muse l2 at nst cosine vid crd --steps '
     '60 --warmup 3 --threads 1', [
         '--models', 'toy-classifier', '--batch-size', '4', '--losses', 'muse',
         'l2', '--steps', '1', '--warmup', '0'
     ]),
    *[(f'python tools/analysis_tools/benchmark_methods.py '
       f'--tasks cls --cls-iters 300 '
       f'--threads 1 --seeds 0 1 2 3 4 --results work_dirs/ablation/cls.jsonl '
       f'--methods {methods}', ['--seeds', '0', '--cls-iters', '2'])
      for methods in ('none l2 at nst cosine vid crd',
                      'muse muse-mul --settings infonce',
                      'muse muse-mul --settings jsd w3',
                      'muse muse-mul --settings infonce no-warmup')],
    ('python tools/analysis_tools/benchmark_methods.py --tasks cls --table '
     '--results '
     'work_dirs/ablation/cls.jsonl', []),
    # the cost knobs on the classifier, and their overhead side by side
    *[(f'python tools/analysis_tools/benchmark_methods.py '
       f'--tasks cls --cls-iters 300 '
       f'--threads 1 --results docs/results/cls-cost.jsonl --methods muse-mul '
       f'--seeds 0 1 2 3 4{settings}', ['--seeds', '0', '--cls-iters', '2'])
      for settings in (' --settings per-pair-adapter', '',
                       ' --settings e32 n4')],
    # classification at convergence: the hard set, shrunk, and the
    # benchmark's 8000 iterations shrunk to 4, validated every 2
    ('python tools/misc/make_toy_cifar.py --variant hard --out '
     'data/toy_cifar100_hard', ['--num-train', '40', '--num-test', '20']),
    ('python tools/analysis_tools/benchmark_methods.py --tasks cls-hard '
     '--curve 1000 --threads 1 --seeds 0 1 2 3 4 --results '
     'docs/results/cls-hard.jsonl --methods none muse-mul',
     ['--seeds', '0', '--cls-iters', '4', '--curve', '2']),
    ('python tools/analysis_tools/benchmark_methods.py --tasks cls-hard '
     '--table --results docs/results/cls-hard.jsonl', []),
    ('python tools/analysis_tools/benchmark_methods.py --tasks cls-hard '
     '--table --split val --results docs/results/cls-hard.jsonl', []),
    ('python tools/analysis_tools/benchmark_overhead.py --models faster-rcnn '
     'retinanet '
     '--sizes 800 --batch-size 1 --steps 8 --warmup 2 --threads 1 --variant '
     '\'shared={"share_target_adapter": true}\'', [
         '--models', 'toy-classifier', '--batch-size', '4', '--steps', '1',
         '--warmup', '0'
     ]),
    ('python tools/analysis_tools/benchmark_overhead.py --models '
     'toy-classifier '
     'cifar-resnet18 cifar-resnet50 toy-fcos --steps 15 --warmup 3 --threads '
     '1 --variant \'per-pair={"share_target_adapter": false}\' '
     '\'shared={"share_target_adapter": true}\' \'e32-n4={"embed_dim": 32, '
     '"critic": {"type": "separable", "proj_dim": 32}, "num_samples": 4}\'', [
         '--models', 'toy-classifier', '--batch-size', '4', '--steps', '1',
         '--warmup', '0'
     ]),
    ('python tools/analysis_tools/benchmark_overhead.py --models '
     'toy-classifier cifar-resnet18 cifar-resnet50 --steps 40 --warmup 3 '
     '--threads 2 --variant \'before={"with_cp": false}\'', [
         '--models', 'toy-classifier', '--batch-size', '4', '--steps', '1',
         '--warmup', '0'
     ]),
    ('python tools/analysis_tools/benchmark_methods.py --tasks cls '
     '--cls-iters 300 --threads 1 --results docs/results/cls-cost.jsonl '
     '--methods muse-mul --seeds 0 1 2 3 4 --settings no-critic-heads',
     ['--seeds', '0', '--cls-iters', '2']),
    ('python tools/analysis_tools/benchmark_overhead.py --models '
     'toy-classifier cifar-resnet18 --steps 15 --warmup 3 --threads 1 '
     '--variant \'noheads={"critic": {"type": "separable", "proj_dim": '
     'null}}\'', [
         '--models', 'toy-classifier', '--batch-size', '4', '--steps', '1',
         '--warmup', '0'
     ]),
    ('python tools/analysis_tools/benchmark_overhead.py --models faster-rcnn '
     'retinanet --sizes 800 --batch-size 1 --steps 10 --warmup 2 --threads 2',
     [
         '--models', 'toy-classifier', '--batch-size', '4', '--steps', '1',
         '--warmup', '0'
     ]),
    ('python tools/analysis_tools/benchmark_overhead.py --models toy-fcos '
     '--steps 8 --warmup 2 --threads 1 --variant \'cp={"with_cp": true}\'', [
         '--models', 'toy-classifier', '--batch-size', '4', '--steps', '1',
         '--warmup', '0'
     ]),
    # the detection task's own two-iteration run is in test_benchmark_methods
    ('python tools/analysis_tools/benchmark_methods.py --tasks det '
     '--det-iters 150 --threads '
     '1 --grad-stats 10 --results '
     'work_dirs/benchmark_methods/results_v3_det.jsonl', [
         '--tasks', 'cls', '--methods', 'none', 'muse', '--seeds', '0',
         '--cls-iters', '2'
     ]),
    # the README's figure (docs/visualization.md)
    ('python tools/train.py configs/toy/muse_fcos_r18_toy_coco_multiscale.py '
     '--work-dir work_dirs/info_plot_defaults/muse',
     ['--cfg-options', *TRAIN_SHRINK]),
    ('python tools/analysis_tools/plot_information.py '
     'work_dirs/info_plot_defaults/muse --labels "MUSE (shipped defaults)" '
     '--smooth 5 --out docs/images/information_curves_defaults.png', []),
    # docs/quick_tour.md, as written (its 100 iterations), on the small set
    ('python tools/misc/make_toy_coco.py --variant multiscale --num-train 200 '
     '--num-val 50', TOY_COCO),
    ('python tools/train.py configs/toy/muse_fcos_r18_toy_coco_multiscale.py '
     '--work-dir work_dirs/tour --cfg-options train_cfg.max_iters=100 '
     'train_cfg.val_interval=50 default_hooks.logger.interval=10', []),
    ('python tools/analysis_tools/plot_information.py work_dirs/tour --labels '
     'MUSE '
     '--out work_dirs/tour/information_curves.png', []),
    ('python tools/export.py work_dirs/tour/iter_100.pth '
     'work_dirs/tour/plain.pth', []),
    ('python -c "from mmdet.apis import DetInferencer; DetInferencer('
     "'configs/toy/fcos_r18_toy_coco_multiscale.py', "
     "'work_dirs/tour/plain.pth', device='cpu')("
     "'data/toy_coco_multiscale/val/000001.jpg', "
     "out_dir='work_dirs/tour/inference', pred_score_thr=0.3)\"", []),
]
# The shrunk runs stop after 2 iterations: their last
# checkpoints are iter_2.pth.
RENAMES = {
    'work_dirs/demo/iter_3000.pth':
    'work_dirs/demo/iter_2.pth',
    'work_dirs/muse-online_resnet18_toy_cifar/iter_150.pth':
    'work_dirs/muse-online_resnet18_toy_cifar/iter_2.pth'
}
# What the sandbox links from the repository (the rest it writes itself).
LINKED = ('tools', 'configs', 'muse_det', 'requirements', 'setup.py', '.venv')


def shrunk(command: str, extra: list) -> list:
    """The command's argv with ``extra`` appended; extra ``k=v`` overrides join
    the command's own ``--cfg-options`` (a second ``--cfg-options`` flag would
    replace the first)."""
    argv = shlex.split(command)
    for doc_path, run_path in RENAMES.items():
        argv = [run_path if a == doc_path else a for a in argv]
    if argv[0] == 'python':
        argv[0] = sys.executable
    if extra and '--cfg-options' in argv and '--cfg-options' not in extra:
        at = argv.index('--cfg-options') + 1
        return argv[:at] + list(extra) + argv[at:]
    return argv + list(extra)


def test_every_documented_command_is_exercised():
    commands = {c for _, c in documented_commands()}
    run = {c for c, _ in RUN}
    tables = {
        'run here': run,
        'elsewhere': set(ELSEWHERE),
        'not here': set(NOT_HERE)
    }
    unexercised = sorted(commands - set().union(*tables.values()))
    assert not unexercised, (
        f'documented but never run: {unexercised}; add each to RUN (with '
        'shrinking arguments), ELSEWHERE (the test that runs it) or NOT_HERE '
        '(why)')
    stale = sorted(set().union(*tables.values()) - commands)
    assert not stale, f'no longer in the docs: {stale}'
    assert not (run & set(ELSEWHERE)) and not (run & set(NOT_HERE))
    for where in ELSEWHERE.values():
        if where == '.ci/run':
            with open(osp.join(ROOT, '.ci', 'run')) as f:
                assert 'bash tools/run_tests.sh' in f.read()
            continue
        path, func = where.split('::')
        with open(osp.join(ROOT, path)) as f:
            assert re.search(rf'^def {func}\(', f.read(), re.M), where


def curve_rows(path) -> list:
    """(task, method, validated iterations) of each run in a ``--results``
    file, in the order the runs ended."""
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    return [(r['task'], r['method'], [it for it, _ in r['curve']])
            for r in rows]


@pytest.fixture(scope='module')
def sandbox(tmp_path_factory):
    box = tmp_path_factory.mktemp('docs_sandbox')
    for name in LINKED:
        if osp.exists(osp.join(ROOT, name)):
            os.symlink(osp.join(ROOT, name), box / name)
    (box / 'docs' / 'images').mkdir(parents=True)
    return box


def test_documented_commands_run_on_toy_data(sandbox):
    if not osp.isdir(osp.join(ROOT, '.venv')):
        pytest.skip(
            'tools/demo.sh runs in the .venv that tools/run_tests.sh creates')
    env = dict(os.environ, PYTHONUNBUFFERED='1', MPLBACKEND='Agg')
    for command, extra in RUN:
        argv = shrunk(command, extra)
        proc = subprocess.run(
            argv,
            cwd=str(sandbox),
            env=env,
            capture_output=True,
            text=True,
            timeout=900)
        assert proc.returncode == 0, (
            f'{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    # what the commands promise to leave behind
    for path in ('data/toy_coco/annotations/instances_val.json',
                 'data/toy_coco_hard/annotations/instances_train.json',
                 'data/toy_cifar100/cifar-100-python/meta',
                 'work_dirs/demo/plain_detector.pth', 'plain.pth',
                 'plain_cls.pth', 'information_curves.png',
                 'docs/images/information_curves.png',
                 'docs/images/information_curves_cls.png', 'preds.pkl',
                 'work_dirs/benchmark_methods/results.jsonl',
                 'data/toy_coco_multiscale/annotations/instances_val.json',
                 'work_dirs/ablation/det.jsonl',
                 'work_dirs/ablation/cls.jsonl'):
        assert osp.getsize(sandbox / path) > 0, path
    # the --curve run kept both runs' validations (every 2 of 4 iterations)
    with open(sandbox / 'work_dirs/ablation/det_long.jsonl') as f:
        curves = [json.loads(line).get('curve') for line in f]
    assert [[it for it, _ in c] for c in curves if c] == [[2, 4], [2, 4]]
    # the long benchmark's task: the quarter-width FCOS, plain, MUSE and the
    # baselines run on it
    assert curve_rows(sandbox / 'work_dirs/ablation/det-long.jsonl') == [
        ('det-long', method, [2, 4])
        for method in ('none', 'muse-mul', 'cosine', 'l2', 'muse', 'vid')
    ]
    assert curve_rows(sandbox / 'work_dirs/ablation/det-step.jsonl') == [
        ('det-step', method, [2, 4])
        for method in ('none', 'muse-mul', 'cosine', 'l2', 'vid', 'crd', 'nst',
                       'at', 'muse-mul', 'cosine')
    ]
    # the warm-up ablation's runs carry their setting's tag, the others none
    with open(sandbox / 'work_dirs/ablation/det-step.jsonl') as f:
        tags = [json.loads(line)['tag'] for line in f]
    assert tags == [''] * 8 + ['no-warmup'] * 2
    # the pretrained regime: its checkpoint, and runs that report the test
    # split beside val
    assert osp.getsize(
        sandbox / 'data/toy_pretrain/resnet18-quarter_toy-pretrain.pth') > 0
    # the cost settings carry their tags (the shared default none)
    with open(sandbox / 'docs/results/cls-cost.jsonl') as f:
        assert [json.loads(line)['tag'] for line in f
                ] == ['per-pair-adapter', '', 'e32+n4', 'no-critic-heads']
    with open(sandbox / 'docs/results/det-pre.jsonl') as f:
        rows = [json.loads(line) for line in f]
    assert [(r['method'], r['tag'], 'test' in r)
            for r in rows] == [('none', '', True), ('muse-mul', '', True),
                               ('muse-mul', 'w1', True),
                               ('none', 'lr0.5', True), ('none', 'lr2', True),
                               ('muse-mul', 'w0.3', True),
                               ('muse-mul', 'w1+long-warmup', True)]
    # from scratch on the test split: the placebo's, the plain sweep's (the
    # GroupNorm backbone among them) and the baselines' weights' tags
    with open(sandbox / 'docs/results/det-step.jsonl') as f:
        rows = [json.loads(line) for line in f]
    assert [(r['method'], r['tag'], 'test' in r)
            for r in rows] == [('none', '', True), ('muse-mul', '', True),
                               ('muse-mul', 'placebo', True),
                               ('none', 'lr0.5', True), ('none', 'lr2', True),
                               ('none', 'gn-backbone', True),
                               ('l2', 'w0.1', True), ('cosine', 'w0.1', True),
                               ('vid', 'w0.1', True), ('crd', 'w0.1', True),
                               ('nst', 'w0.1', True), ('l2', '', True),
                               ('cosine', '', True), ('vid', '', True),
                               ('crd', '', True), ('nst', '', True),
                               ('l2', 'w10', True), ('cosine', 'w10', True),
                               ('vid', 'w10', True), ('crd', 'w10', True)]
    # classification at convergence: the hard set's runs, with their curves
    assert curve_rows(sandbox / 'docs/results/cls-hard.jsonl') == [
        ('cls-hard', method, [2, 4]) for method in ('none', 'muse-mul')
    ]
    # the anchor-based detector: plain and MUSE, with their curves
    assert curve_rows(sandbox / 'work_dirs/ablation/det-retina.jsonl') == [
        ('det-retina', method, [2, 4]) for method in ('none', 'muse-mul')
    ]
