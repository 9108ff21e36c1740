"""MUSE against the discrepancies it is compared with, at the same budget, over seeds.

Every method is the task's MUSE config with a clean loss dict: the method's
type (and MUSE's ``variant``) plus the MUSE loss options that method's loss
takes, so every method samples the same way; ``none`` is the plain model of
the same config. Each run trains with a real mmengine Runner in this process,
evaluates on the validation split (which chooses settings) and then on the
test split (which reports); the table (``--split``, default test) reports the
metric's mean +- sample sd over seeds, paired differences with 95 % intervals,
and the median training-step time as a ratio to the plain model (runs resumed from ``--results`` keep their timings, so run a
benchmark to the end on an otherwise idle machine for clean ratios; the thread
count is part of a run's key).

Tasks (toy data is generated when missing):
  cls        toy CIFAR-100-format set, ResNet-18 (quarter width), top-1 (%)
  cls-hard   the hard toy set (small shapes among distractors), the same
             classifier, 8000 iterations with a step schedule (x0.1 at 60 %
             and 80 %)
  det        multi-scale toy COCO set, FCOS ResNet-18 (half width), bbox mAP
  det-retina the same set, RetinaNet ResNet-18 (half width), bbox mAP
  det-hard   hard toy COCO set (small objects only), FCOS ResNet-18, bbox mAP
  det-long   the det set, FCOS ResNet-18 (quarter width), 12000 iterations
  det-step   det-long with a step schedule (x0.1 at 60 % and 80 %)
  det-pre    det-step's detector from a pretrained backbone (frozen stem and
             layer1, frozen BatchNorm), 6000 iterations: the regime of mmdet's
             COCO configs (the backbone is pretrained when missing)

Ablations are named settings (``--settings``, see SETTINGS): changes to the
MUSE config applied to every distilled method, recorded under the settings'
names. Training settings (``lr0.5``, ``lr2``, ``gn-backbone``) reach the plain
model too, under their own tag; the plain model's runs are shared by every
other setting.

    python tools/analysis_tools/benchmark_methods.py                              # cls and det, 9 methods, 3 seeds
    python tools/analysis_tools/benchmark_methods.py --tasks cls --methods none muse l2 --seeds 0 1 2 3 4
    python tools/analysis_tools/benchmark_methods.py --tasks det --methods none muse --settings fpn-head box4
    python tools/analysis_tools/benchmark_methods.py --results work_dirs/methods.json   # resumes from the file
    python tools/analysis_tools/benchmark_methods.py --table --results work_dirs/methods.json   # every setting's rows
    python tools/analysis_tools/benchmark_methods.py --tasks det --methods none --det-iters 6000 --curve 1200   # converged?

``--curve N`` also validates every N iterations and keeps each run's learning
curve; the table then shows the curves and each run's change over the last
20 % of its schedule (the benchmark calls a run converged when that change is
under 1 point).

Finished runs are appended to ``--results`` (JSON lines) as they end, so an
interrupted benchmark continues where it stopped; ``--fresh`` discards
earlier results. Each row records a digest of its inputs (the toy set's files
and the pretrained backbone): a run whose inputs differ from those of the
file's rows of the same task and schedule is refused before it starts, since
its seeds would not pair with theirs (a set or backbone re-made on another
machine can differ: other JPEG encoders, other CPU kernels).
"""  # noqa: E501 (usage lines)
import argparse
import hashlib
import json
import os
import os.path as osp
import shutil
import statistics
import sys
import tempfile
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import muse_det.models.losses as distill_losses  # noqa: E402
from muse_det.utils.launch import build_runner  # noqa: E402


def _detection(config: str, variant: str) -> dict:
    """A detection task: a toy MUSE config on a toy COCO variant."""
    return dict(
        config=f'configs/toy/{config}',
        metric='coco/bbox_mAP',
        scale=100.0,
        unit='bbox mAP x100',
        data=f'data/toy_coco_{variant}',
        maker='make_toy_coco',
        variant=variant)


TASKS = {
    'cls':
    dict(
        config='configs/classification/toy/muse_resnet18_toy_cifar.py',
        metric='accuracy/top1',
        scale=1.0,
        unit='top-1 %',
        data='data/toy_cifar100',
        maker='make_toy_cifar'),
    # the hard toy set, trained to convergence (the cls set saturates)
    'cls-hard':
    dict(
        config='configs/classification/toy/muse_resnet18_toy_cifar_hard.py',
        metric='accuracy/top1',
        scale=1.0,
        unit='top-1 %',
        data='data/toy_cifar100_hard',
        maker='make_toy_cifar',
        variant='hard'),
    'det':
    _detection('muse_fcos_r18_toy_coco_multiscale.py', 'multiscale'),
    'det-retina':
    _detection('muse_retinanet_r18_toy_coco_multiscale.py', 'multiscale'),
    'det-hard':
    _detection('muse_fcos_r18_toy_coco_hard.py', 'hard'),
    'det-long':
    _detection('muse_fcos_r18_toy_coco_multiscale_long.py', 'multiscale'),
    'det-step':
    _detection('muse_fcos_r18_toy_coco_multiscale_step.py', 'multiscale'),
    'det-pre':
    dict(
        _detection('muse_fcos_r18_toy_coco_multiscale_pretrained.py',
                   'multiscale'),
        pretrained='data/toy_pretrain/resnet18-quarter_toy-pretrain.pth'),
}
DEFAULT_TASKS = ('cls', 'det')
_FPN = [f'neck[{k}]' for k in range(4)]
_HEAD = [f'bbox_head.cls_convs.1@{k}' for k in range(4)]
# a setting's key that scales the optimiser's learning rate (and the
# schedulers' absolute floors with it)
LR_MULT = 'lr_mult'
# a setting's key whose dotted keys change the trained model itself (the
# plain model, or the model a distiller wraps)
ARCHITECTURE = 'architecture'
# setting -> changes to the MUSE config (model.* keys, or custom_hooks);
# the detection pairings name the 4-level FPN of the det task's FCOS
SETTINGS = {
    # which features teach which (detection)
    'fpn-deepest': {
        'model.features': _FPN,
        'model.pairs': None
    },
    'backbone-layer4': {
        'model.features': [f'backbone.layer{i}' for i in range(1, 5)],
        'model.pairs': None
    },
    # each FPN level taught by the head's last tower conv on that level
    'fpn-head': {
        'model.features': _FPN + _HEAD,
        'model.pairs': [list(p) for p in zip(_FPN, _HEAD)]
    },
    # locations inside ground-truth boxes drawn 4x as often
    'box4': {
        'model.loss.box_weight': 4.0
    },
    # weight and warm-up; w0.001 is a noise control: a gradient under a
    # thousandth of the task's at the student features pulls nothing
    # measurable, but it moves the run off its seed's plain trajectory, so
    # its paired differences measure how far two trajectories of one seed
    # drift apart
    'w0.001': {
        'model.loss.loss_weight': 0.001
    },
    'w0.03': {
        'model.loss.loss_weight': 0.03
    },
    'w0.1': {
        'model.loss.loss_weight': 0.1
    },
    'w0.3': {
        'model.loss.loss_weight': 0.3
    },
    'w1': {
        'model.loss.loss_weight': 1.0
    },
    'w3': {
        'model.loss.loss_weight': 3.0
    },
    'w10': {
        'model.loss.loss_weight': 10.0
    },
    'no-warmup': {
        'custom_hooks': [dict(type='MUSEHook', warmup_iters=0)]
    },
    # the multi-scale detection configs' warm-up before the ablation dropped
    # it: reproduces the rows measured with it
    'warmup-200': {
        'custom_hooks': [dict(type='MUSEHook', warmup_iters=200)]
    },
    'long-warmup': {
        'custom_hooks': [dict(type='MUSEHook', warmup_iters=600)]
    },
    # the control: MUSE wrapped and computed, but weighted 0 (it must equal
    # the plain model of the same seed)
    'placebo': {
        'model.loss.loss_weight': 0.0
    },
    # the student stages the frozen stem and layer1 leave trainable
    'backbone-l234': {
        'model.features': [f'backbone.layer{i}' for i in range(2, 5)],
        'model.pairs': None
    },
    # training settings: applied to every method, the plain model included
    'lr0.5': {
        LR_MULT: 0.5
    },
    'lr2': {
        LR_MULT: 2.0
    },
    # from-scratch detectors: GroupNorm in the backbone, not BatchNorm at
    # batch 4 (8 groups divide every stage of the quarter- and half-width
    # ResNet-18s; a pretrained task's BatchNorm weights would not load)
    'gn-backbone': {
        ARCHITECTURE: {
            'backbone.norm_cfg':
            dict(type='GN', num_groups=8, requires_grad=True)
        }
    },
    # what MUSE costs: one adapter per pair instead of one per target, the
    # embedding size (adapters and critic heads alike), locations per image,
    # pooled maps (one vector per image)
    'per-pair-adapter': {
        'model.loss.share_target_adapter': False
    },
    'e64': {
        'model.loss.embed_dim': 64,
        'model.loss.critic': dict(type='separable', proj_dim=64)
    },
    'e32': {
        'model.loss.embed_dim': 32,
        'model.loss.critic': dict(type='separable', proj_dim=32)
    },
    # the critic scores the adapters' outputs directly (no linear heads)
    'no-critic-heads': {
        'model.loss.critic': dict(type='separable', proj_dim=None)
    },
    # the adapters' hidden width (default: embed_dim)
    'h32': {
        'model.loss.adapter_hidden': 32
    },
    # the student side's activations kept for backward, not recomputed (the
    # classification configs recompute them: the same loss, less memory)
    'no-cp': {
        'model.loss.with_cp': False
    },
    'with-cp': {
        'model.loss.with_cp': True
    },
    'n8': {
        'model.loss.num_samples': 8
    },
    'n4': {
        'model.loss.num_samples': 4
    },
    'pool': {
        'model.loss.pool': True
    },
    # the MI estimator (classification configs: InfoNCE; detection: JSD)
    'infonce': {
        'model.loss.mi_estimator': 'infonce'
    },
    'jsd': {
        'model.loss.mi_estimator': 'jsd'
    },
    # MUSE's parts (additive variant)
    'mi-only': {
        'model.loss.entropy_weight': 0.0
    },
    'entropy-only': {
        'model.loss.mi_weight': 0.0
    },
    'entropy0.3': {
        'model.loss.entropy_weight': 0.3
    },
}
# method -> the one change to the MUSE config (None: the plain model)
METHODS = {
    'none': None,
    'muse': dict(type='MUSELoss', variant='additive'),
    'muse-mul': dict(type='MUSELoss', variant='multiplicative'),
    'l2': dict(type='l2'),
    'at': dict(type='at'),
    'nst': dict(type='nst'),
    'cosine': dict(type='cosine'),
    'vid': dict(type='vid'),
    'crd': dict(type='crd'),
}


def method_loss(loss: dict, method: str) -> dict:
    """A clean ``loss`` dict for distilled ``method``: its change (``type``,
    and for MUSE ``variant``) plus the options of the MUSE config's ``loss``
    that the method's loss takes (the same sampling for every method);
    MUSE's own options are left out, since a loss rejects options it does
    not take, and so is the config's ``loss_weight`` for a baseline, which
    keeps its own recipe's weight (weight settings still set it)."""
    change = METHODS[method]
    takes = set(distill_losses.loss_options(change['type']))
    if change['type'] != loss.get('type'):
        # MUSE's weight is on MUSE's scale, not on the baseline's
        takes.discard('loss_weight')
    return dict({k: v for k, v in loss.items() if k in takes}, **change)


def method_config(task: str,
                  method: str,
                  seed: int,
                  work_dir: str,
                  iters=None,
                  cfg_options=None,
                  val_interval=None):
    """The config of one run: the task's MUSE config with
    ``method``'s clean loss dict (:func:`method_loss`), then
    ``cfg_options`` (distilled methods only: e.g.
    ``model.loss.loss_weight=0.5``); validated after the last iteration and,
    with ``val_interval``, every ``val_interval`` iterations too."""
    cfg = Config.fromfile(osp.join(ROOT, TASKS[task]['config']))
    options = dict(cfg_options or {})
    lr_mult = options.pop(LR_MULT, None)
    architecture = options.pop(ARCHITECTURE, {})
    change = METHODS[method]
    if change is None:
        cfg.model = cfg.model.architecture
        cfg.custom_hooks = [
            h for h in cfg.get('custom_hooks', []) if h['type'] != 'MUSEHook'
        ]
    else:
        cfg.model.loss = method_loss(cfg.model.loss, method)
        if options:
            cfg.merge_from_dict(
                {k: v
                 for k, v in options.items() if k != 'custom_hooks'})
            if 'custom_hooks' in options:  # a list: replaced whole
                cfg.custom_hooks = options['custom_hooks']
    prefix = 'model.' if change is None else 'model.architecture.'
    cfg.merge_from_dict({prefix + k: v for k, v in architecture.items()})
    if lr_mult is not None:
        scale_lr(cfg, lr_mult)
    if iters is not None:
        set_iterations(cfg, iters)
    # the metric is the last validation's; earlier ones only draw a curve
    cfg.train_cfg.val_interval = val_interval or cfg.train_cfg.max_iters
    cfg.default_hooks.checkpoint = None  # nothing to resume in a benchmark
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=50)
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.work_dir = work_dir
    cfg.visualizer.name = f'visualizer_{task}_{method}_{seed}_{time.time_ns()}'
    cfg.log_level = 'WARNING'
    return cfg


def scale_lr(cfg, factor: float) -> None:
    """Multiply the optimiser's learning rate, and every scheduler's
    absolute floor (``eta_min``), by ``factor``."""
    cfg.optim_wrapper.optimizer.lr *= factor
    for sched in cfg.param_scheduler:
        if 'eta_min' in sched:
            sched['eta_min'] *= factor


def training_setting(name: str) -> bool:
    """A setting that changes training itself (applied to the plain model
    too), not the distillation."""
    return set(SETTINGS[name]) <= {LR_MULT, ARCHITECTURE}


def set_iterations(cfg, iters: int) -> None:
    """Rescale an iteration-based schedule to ``iters``: every
    scheduler's span (warm-up, cosine) and step milestone keeps its share
    of the run, and spans that met still meet."""
    old = cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = iters
    points = sorted({
        p
        for s in cfg.param_scheduler
        for p in (s.get('begin', 0), min(s.get('end', old), old))
    })
    new, last = {}, -1
    # distinct boundaries stay distinct (a span never shrinks to nothing)
    for p in points:
        last = new[p] = min(max(round(p * iters / old), last + 1), iters)
    for sched in cfg.param_scheduler:
        begin = sched.get('begin', 0)
        if 'milestones' in sched:  # counted from the scheduler's begin
            sched['milestones'] = [
                max(round((begin + m) * iters / old) - new[begin], 1)
                for m in sched['milestones']
            ]
        sched.update(
            begin=new[begin], end=new[min(sched.get('end', old), old)])
        if 'T_max' in sched:
            sched['T_max'] = sched['end'] - sched['begin']


def is_classification(task: str) -> bool:
    """Whether ``task`` trains a classifier on a toy CIFAR-format set."""
    return TASKS[task]['maker'] == 'make_toy_cifar'


def ensure_data(task: str) -> str:
    """Generate the task's toy set where it is missing (or predates its
    test split), and its pretrained backbone where the task has one."""
    spec = TASKS[task]
    root = osp.join(ROOT, spec['data'])
    sys.path.insert(0, osp.join(ROOT, 'tools', 'misc'))
    if spec.get('pretrained') and not osp.isfile(
            osp.join(ROOT, spec['pretrained'])):
        print(
            f'[benchmark] pretraining the backbone: {spec["pretrained"]}',
            flush=True)
        __import__('pretrain_toy_backbone').pretrain(
            osp.join(ROOT, spec['pretrained']),
            osp.join(ROOT, osp.dirname(spec['pretrained'])))
    # the file each maker writes last (a set that has it is complete), and
    # the validation file sets made before the test split lack
    complete = [
        osp.join(root, 'cifar-100-python', name) for name in ('val', 'meta')
    ] if is_classification(task) else [
        osp.join(root, 'annotations', 'instances_test.json')
    ]
    if all(osp.exists(path) for path in complete):
        return root
    stale = None
    if osp.isdir(root):
        # moved aside, not deleted, until the new set is in place
        stale = tempfile.mkdtemp(
            prefix=osp.basename(root) + '.no-test-', dir=osp.dirname(root))
        os.rename(root, osp.join(stale, 'set'))
        print(
            f'[benchmark] {root} has no test split (moved to {stale}); '
            'generating it anew',
            flush=True)
    else:
        print(f'[benchmark] {root} is missing; generating it', flush=True)
    maker = __import__(spec['maker'])
    # written beside the root and renamed into place when complete, so a
    # second benchmark started meanwhile, or an interrupted one, never
    # trains on a half-written set
    os.makedirs(osp.dirname(root), exist_ok=True)
    partial = tempfile.mkdtemp(
        prefix=osp.basename(root) + '.partial-', dir=osp.dirname(root))
    try:
        if is_classification(task):
            maker.make_toy_cifar(partial, variant=spec.get('variant', 'easy'))
        else:
            maker.make_toy_coco(partial, variant=spec['variant'])
        os.rename(partial, root)
    except OSError:
        if not osp.isdir(root):  # not another process's finished set
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    if stale and osp.isdir(root):
        shutil.rmtree(stale, ignore_errors=True)
    return root


class StepProbe(Hook):
    """Times training steps, keeps every validation's metrics (``curve``:
    (iteration, metrics) pairs) and every logged ``grad_ratio/<feature>`` (no
    parameters)."""
    priority = 'VERY_LOW'

    def __init__(self):
        self.step_times, self.metrics, self._t = [], {}, None
        self.grad_ratios, self.curve, self.test_metrics = {}, [], {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._t = time.perf_counter()

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.step_times.append(time.perf_counter() - self._t)
        for key, value in (outputs or {}).items():
            if key.startswith('grad_ratio/'):
                self.grad_ratios.setdefault(key[len('grad_ratio/'):],
                                            []).append(float(value))

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = dict(metrics or {})
        self.curve.append((runner.iter, self.metrics))

    def after_test_epoch(self, runner, metrics=None):
        self.test_metrics = dict(metrics or {})


def run_one(task: str,
            method: str,
            seed: int,
            iters,
            work_root: str,
            warmup: int,
            cfg_options=None,
            tag: str = '',
            val_interval=None) -> dict:
    work_dir = osp.join(work_root,
                        f'{task}_{method}{tag and "_" + tag}_seed{seed}')
    cfg = method_config(task, method, seed, work_dir, iters, cfg_options,
                        val_interval)
    probe = StepProbe()
    t0 = time.perf_counter()
    runner = build_runner(cfg)
    runner.register_hook(probe)
    runner.train()
    key = TASKS[task]['metric']
    if key not in probe.metrics:
        raise RuntimeError(
            f'{task}/{method}/seed {seed}: no {key!r} in the validation '
            f'metrics {sorted(probe.metrics)}')
    if has_test_split(task):
        # the split that reports; nothing is chosen on it
        runner.test()
    steps = probe.step_times[warmup:] or probe.step_times
    row = dict(
        task=task,
        method=method,
        tag=tag,
        seed=seed,
        iters=cfg.train_cfg.max_iters,
        threads=torch.get_num_threads(),
        metric=float(probe.metrics[key]) * TASKS[task]['scale'],
        **({
            'test': float(probe.test_metrics[key]) * TASKS[task]['scale']
        } if probe.test_metrics else {}),
        step_s=statistics.median(steps),
        wall_s=time.perf_counter() - t0)
    if len(probe.curve) > 1:
        row['curve'] = [[it, float(m[key]) * TASKS[task]['scale']]
                        for it, m in probe.curve]
    if probe.grad_ratios:
        row['grad_ratio'] = {
            k: statistics.median(v)
            for k, v in probe.grad_ratios.items()
        }
    return row


def input_digest(task: str) -> str:
    """What a run of ``task`` reads besides the code: every file of its toy
    set and, where it has one, the tensors of its pretrained backbone (not
    the file's bytes, which also hold the name it was saved under).

    Args:
        task (str): a key of ``TASKS`` whose data (and backbone) exist.

    Returns:
        str: the first 12 hex digits of a SHA-256 over each file's path
        (relative to the set) and bytes, then each backbone tensor's name,
        dtype, shape and values.
    """
    spec = TASKS[task]
    root = osp.join(ROOT, spec['data'])
    digest = hashlib.sha256()
    # linked folders are followed: their files are read like the others
    for dirpath, dirnames, names in os.walk(root, followlinks=True):
        dirnames.sort()  # a fixed order, whatever the file system's
        for name in sorted(names):
            path = osp.join(dirpath, name)
            digest.update(osp.relpath(path, root).encode() + b'\0')
            with open(path, 'rb') as f:
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    digest.update(chunk)
    if spec.get('pretrained'):
        state = torch.load(
            osp.join(ROOT, spec['pretrained']),
            map_location='cpu',
            weights_only=True)['state_dict']
        for name in sorted(state):
            tensor = state[name].contiguous()
            digest.update(
                f'{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0'.encode())
            digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:12]


def check_same_inputs(rows: list, task: str, iters: int, inputs: str,
                      results: str) -> None:
    """Refuse a run whose inputs differ from those of the rows the table
    would pair it with: the rows of ``task`` at ``iters`` iterations.

    Args:
        rows (list[dict]): the rows of the results file.
        task (str): the run's task.
        iters (int): the run's iterations.
        inputs (str): the run's :func:`input_digest`.
        results (str): the results file, named in the message.

    Raises:
        SystemExit: such a row records other inputs, or none (rows made
            before digests were recorded: nothing shows what they read).
    """
    mine = [r for r in rows if r['task'] == task and r['iters'] == iters]
    other = sorted(
        {r['inputs']
         for r in mine if r.get('inputs', inputs) != inputs})
    unrecorded = sum('inputs' not in r for r in mine)
    if not (other or unrecorded):
        return
    found = []
    if other:
        found.append(f'rows made from other inputs (digest '
                     f'{", ".join(other)})')
    if unrecorded:
        found.append(f'{unrecorded} rows that record no inputs (made before '
                     'digests were recorded)')
    raise SystemExit(
        f'{results} holds {task} rows of {iters} iterations that a new run '
        f'would be paired with: {" and ".join(found)}; the toy set and '
        f'backbone here are {inputs}, so their seeds would not pair. Write '
        'new runs to another --results file, or put back the data/ those '
        'rows were made from.')


def has_test_split(task: str) -> bool:
    """Whether the task's config tests on a split of its own, so runs
    report it beside ``val`` (every task's toy set has one)."""
    return task in TASKS


def load_results(path: str) -> list:
    if not osp.isfile(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def append_result(path: str, row: dict) -> None:
    with open(path, 'a') as f:
        f.write(json.dumps(row) + '\n')
        f.flush()
        os.fsync(f.fileno())


def paired(values: dict, base: dict):
    """Per-seed differences ``values[s] - base[s]`` over the seeds both have:
    their mean, sample sd, paired t statistic (mean / (sd / sqrt(n))), the 95 %
    confidence interval of the mean (Student's t, n - 1 degrees of freedom)
    and the two-sided p-value (``scipy.stats.ttest_rel``'s); None where fewer
    than 2 seeds pair."""
    from scipy import stats
    seeds = sorted(set(values) & set(base))
    diffs = [values[s] - base[s] for s in seeds]
    if len(diffs) < 2:
        return None
    n = len(diffs)
    mean, sd = statistics.mean(diffs), statistics.stdev(diffs)
    if sd > 0:
        se = sd / n**0.5
        t = mean / se
        half = stats.t.ppf(0.975, n - 1) * se
        p = float(2 * stats.t.sf(abs(t), n - 1))
    else:  # every seed differs by the same amount (0 for a placebo)
        t = 0.0 if mean == 0 else float('inf') * (1 if mean > 0 else -1)
        half, p = 0.0, 1.0 if mean == 0 else 0.0
    return dict(
        seeds=seeds,
        diffs=diffs,
        mean=mean,
        sd=sd,
        t=t,
        ci=(mean - half, mean + half),
        p=p)


def format_paired(diff: dict) -> str:
    """``+1.23 [+0.45, +2.01] (t +4.38, p 0.012)``."""
    lo, hi = diff['ci']
    return (f'{diff["mean"]:+.2f} [{lo:+.2f}, {hi:+.2f}] '
            f'(t {diff["t"]:+.2f}, p {diff["p"]:.3g})')


def label_of(method: str, tag: str) -> str:
    return f'{method} [{tag}]' if tag else method


def by_seed(rows: list, method: str, tag: str, split: str) -> dict:
    """``{seed: value}`` of ``split`` ('metric' is val, 'test') of one
    method and setting."""
    return {
        r['seed']: r[split]
        for r in rows
        if r['method'] == method and r.get('tag', '') == tag and split in r
    }


def best_on_val(rows: list, settings, keep):
    """(method, tag) among ``settings`` with ``keep(method)`` and at least
    2 seeds whose mean on the validation split is highest (the choice a
    test-split table reports); None without one."""
    means = {}
    for method, tag in settings:
        if keep(method):
            vals = by_seed(rows, method, tag, 'metric')
            # a single-seed probe is no reference: nothing would pair with it
            if len(vals) >= 2:
                means[(method, tag)] = statistics.mean(vals.values())
    return max(means, key=means.get) if means else None


def is_baseline(method: str) -> bool:
    return method != 'none' and not method.startswith('muse')


def summarise(rows: list, tasks, methods, split: str = 'metric') -> str:
    """Markdown tables, one per task and schedule length: a row per method
    and setting (tag) with ``split``'s metric ('metric': the validation
    split; 'test': the test split) mean +- sd, the paired difference to the
    plain model (same seed = same data order and initial weights) with its 95
    % interval and p-value, the step-time ratio to the plain model, for MUSE's
    rows the paired difference to the best baseline and, where logged, the
    median ``grad_ratio`` per student feature. The plain reference and the
    best baseline are the settings with the highest *validation* mean, so a
    test-split table reports choices made on val."""
    out = []
    wanted = split
    for task, iters in sorted(
        {(r['task'], r['iters'])
         for r in rows if r['task'] in tasks},
            key=lambda k: (list(tasks).index(k[0]), k[1])):
        task_rows = [
            r for r in rows if r['task'] == task and r['iters'] == iters
        ]
        # runs made before the toy sets had a test split have no test value
        split = wanted if any(wanted in r for r in task_rows) else 'metric'
        task_rows = [r for r in task_rows if split in r]
        split_name = 'the test split' if split == 'test' else \
            'the validation split'
        if split != wanted:
            split_name += ' (these runs predate the test split)'
        settings = [(m, tag) for m in methods for tag in sorted(
            {r.get('tag', '')
             for r in task_rows if r['method'] == m})]
        plain_key = best_on_val(task_rows, settings, lambda m: m == 'none')
        plain = by_seed(task_rows, *plain_key, split) if plain_key else {}
        base = [
            r['step_s'] for r in task_rows
            if plain_key and (r['method'], r.get('tag', '')) == plain_key
        ]
        base_step = statistics.median(base) if base else None
        best = best_on_val(task_rows, settings, is_baseline)
        plain_label = label_of(*plain_key) if plain_key else 'none'
        out.append(
            f'\n{task}: {TASKS[task]["unit"]}, {iters} iterations, metric on '
            f'{split_name} after the last iteration; plain reference: '
            f'{plain_label} (the plain setting best on val)\n')
        out.append(
            f'| method | {TASKS[task]["unit"]} mean +- sd | seeds | per seed '
            f'| paired diff to {plain_label}: mean [95 % CI] (t, p) | '
            'per-seed diff | median s/step | step-time ratio to plain | '
            'paired diff to the best baseline: mean [95 % CI] (t, p) |')
        out.append('|---|---:|---:|---|---:|---|---:|---:|---:|')
        ratios = []
        for method, tag in settings:
            rs = sorted((r for r in task_rows
                         if r['method'] == method and r.get('tag', '') == tag),
                        key=lambda r: r['seed'])
            label = label_of(method, tag)
            vals = [r[split] for r in rs]
            sd = statistics.stdev(vals) if len(vals) > 1 else float('nan')
            step = statistics.median(r['step_s'] for r in rs)
            ratio = f'{step / base_step:.3f}' if base_step else 'n/a'
            values = {r['seed']: r[split] for r in rs}
            diff = None if (method,
                            tag) == plain_key else paired(values, plain)
            diff_cell = (format_paired(diff), ', '.join(
                f'{d:+.2f}' for d in diff['diffs'])) if diff else ('', '')
            against = paired(values, by_seed(task_rows, *best, split)) if (
                best and method.startswith('muse')) else None
            against_cell = (f'{format_paired(against)} vs '
                            f'{label_of(*best)}') if against else ''
            out.append(
                f'| {label} | {statistics.mean(vals):.2f} +- {sd:.2f} | '
                f'{len(vals)} | {", ".join(f"{v:.2f}" for v in vals)} | '
                f'{diff_cell[0]} | {diff_cell[1]} | {step:.3f} | {ratio} | '
                f'{against_cell} |')
            logged = [r['grad_ratio'] for r in rs if r.get('grad_ratio')]
            if logged:
                feats = sorted({f for g in logged for f in g})
                ratios.append(f'- {label}: ' + ', '.join(
                    f'{f} '
                    f'{statistics.median(g[f] for g in logged if f in g):.3g}'
                    for f in feats))
        if ratios:
            out.append(
                '\nmedian grad_ratio = ||dL_distill/dF|| / ||dL_task/dF|| per '
                'student feature (median over logged iterations, then '
                'seeds):\n')
            out.extend(ratios)
        curves = list(curve_rows(task_rows, settings))
        if curves:
            points = sorted({it for r, _ in curves for it, _ in r['curve']})
            out.append('\nlearning curves on the validation split (every '
                       f'{points[0]} iterations):\n')
            out.append('| method | seed | ' +
                       ' | '.join(str(p) for p in points) +
                       ' | change over the last 20 % |')
            out.append('|---|---:|' + '---:|' * (len(points) + 1))
            for r, label in curves:
                at = dict(r['curve'])
                change = last_fifth_change(r['curve'], iters)
                out.append(
                    f'| {label} | {r["seed"]} | ' +
                    ' | '.join(f'{at[p]:.2f}' if p in at else ''
                               for p in points) +
                    (f' | {change:+.2f} |' if change is not None else ' | |'))
    return '\n'.join(out)


def curve_rows(rows: list, settings):
    """(row, label) of every run that kept a learning curve, in the
    table's setting order then by seed."""
    for method, tag in settings:
        for r in sorted((r for r in rows if r['method'] == method
                         and r.get('tag', '') == tag and r.get('curve')),
                        key=lambda r: r['seed']):
            yield r, label_of(method, tag)


def last_fifth_change(curve, iters: int):
    """The metric's change over the last 20 % of the schedule: the last
    point minus the latest point at or before 80 % of ``iters`` (None where
    the curve has no such point). Under 1 point is the benchmark's
    definition of converged."""
    before = [m for it, m in curve if it <= 0.8 * iters]
    return curve[-1][1] - before[-1] if before else None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        '--tasks', nargs='+', default=list(DEFAULT_TASKS), choices=list(TASKS))
    parser.add_argument(
        '--methods', nargs='+', default=list(METHODS), choices=list(METHODS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument(
        '--cls-iters',
        type=int,
        default=None,
        help='training iterations of the classification tasks (default: '
        'their configs, 150 for cls, 8000 for cls-hard)')
    parser.add_argument(
        '--det-iters',
        type=int,
        default=None,
        help='training iterations of every detection task (default: its '
        'config\'s)')
    parser.add_argument(
        '--results',
        default='work_dirs/benchmark_methods/results.jsonl',
        help='JSON lines of finished runs; read to resume, appended to')
    parser.add_argument(
        '--fresh', action='store_true', help='ignore and replace --results')
    parser.add_argument(
        '--work-dir',
        default=None,
        help='where runs write their logs (default: a temporary folder)')
    parser.add_argument(
        '--warmup-steps',
        type=int,
        default=5,
        help='training steps left out of the step-time median')
    parser.add_argument(
        '--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default=None,
        help='overrides for the distilled methods, e.g. '
        'model.loss.loss_weight=0.5 (an ablation: give it a --tag)')
    parser.add_argument(
        '--grad-stats',
        type=int,
        default=None,
        metavar='N',
        help='log grad_ratio/<feature> every N iterations in the distilled '
        'runs (model.grad_stats_interval; a measurement, so it keeps the tag)')
    parser.add_argument(
        '--settings',
        nargs='+',
        default=[],
        choices=list(SETTINGS),
        metavar='SETTING',
        help='named ablation settings applied to the distilled methods (lr0.5 '
        'and lr2 to the plain model too), in '
        f'order (later ones win); the tag defaults to their names joined by '
        f'"+". Known: {", ".join(SETTINGS)}')
    parser.add_argument(
        '--tag',
        default='',
        help='names this setting in --results, so ablations resume separately')
    parser.add_argument(
        '--curve',
        type=int,
        default=None,
        metavar='N',
        help='validate every N iterations too and keep the learning curve '
        '(the metric stays the last validation\'s); the table shows each '
        'run\'s curve and its change over the last 20 %% of the schedule')
    parser.add_argument(
        '--split',
        choices=('val', 'test'),
        default='test',
        help='the split the tables report (default: test, where the task '
        'has one; the plain reference and the best baseline are always '
        'chosen on val)')
    parser.add_argument(
        '--table',
        action='store_true',
        help='run nothing: print the tables of every run in --results (all '
        'settings) for --tasks and --methods')
    args = parser.parse_args(argv)
    if args.settings and not args.tag:
        args.tag = '+'.join(args.settings)
    if args.cfg_options and not args.tag:
        parser.error(
            '--cfg-options changes the methods: name the setting with --tag')
    if len(set(args.seeds)) < len(args.seeds):
        parser.error('--seeds lists a seed twice')
    for name in ('cls_iters', 'det_iters', 'curve'):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    # runs happen in the repository root (configs name data relative to it)
    args.results = osp.abspath(args.results)
    args.work_dir = args.work_dir and osp.abspath(args.work_dir)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.fresh and osp.isfile(args.results):
        os.remove(args.results)
    os.makedirs(osp.dirname(osp.abspath(args.results)), exist_ok=True)
    if args.table:
        rows = [
            r for r in load_results(args.results) if r['task'] in args.tasks
        ]
        print(f'Method benchmark, every setting in {args.results}')
        print(summarise(rows, args.tasks, args.methods, split_key(args)))
        return rows
    threads = torch.get_num_threads()
    # rows without a test value predate the test split and the pairing of
    # initial weights (isolated_rng): they are not resumed from
    done = {(r['task'], r['method'], r.get('tag', ''), r['seed'], r['iters'],
             r['threads']): r
            for r in load_results(args.results) if 'test' in r}
    work_root = args.work_dir or tempfile.mkdtemp(prefix='benchmark_methods_')
    check_settings_apply(args, work_root)
    plan = []
    for task in args.tasks:
        # every classification task takes --cls-iters, every detection
        # task --det-iters
        given = args.cls_iters if is_classification(task) else args.det_iters
        cfg_iters = given or Config.fromfile(
            osp.join(ROOT, TASKS[task]['config'])).train_cfg.max_iters
        for method in args.methods:
            # the plain model takes the training settings only (e.g. lr2):
            # every distillation setting shares its runs
            tag = '+'.join(
                n for n in args.settings
                if training_setting(n)) if method == 'none' else args.tag
            plan += [(task, method, seed, cfg_iters, tag)
                     for seed in args.seeds]
    # every task with a run to make: its data in place and its inputs the
    # same as the file's rows', before the first run of any task
    inputs = {}
    os.chdir(ROOT)  # configs name data relative to the repository
    for task, method, seed, cfg_iters, tag in plan:
        if task in inputs or (task, method, tag, seed, cfg_iters,
                              threads) in done:
            continue
        ensure_data(task)
        inputs[task] = input_digest(task)
        check_same_inputs(
            load_results(args.results), task, cfg_iters, inputs[task],
            args.results)
    rows, started = [], time.perf_counter()
    for n, (task, method, seed, cfg_iters, tag) in enumerate(plan, start=1):
        key = (task, method, tag, seed, cfg_iters, threads)
        if key in done:
            rows.append(done[key])
            print(
                f'[benchmark] {n}/{len(plan)} {task} {method} seed {seed}: '
                f'{done[key]["metric"]:.2f} (from {args.results})',
                flush=True)
            continue
        os.chdir(ROOT)
        options = run_options(args, method)
        row = run_one(task, method, seed, cfg_iters, work_root,
                      args.warmup_steps, options, tag, args.curve)
        row['inputs'] = inputs[task]
        append_result(args.results, row)
        rows.append(row)
        elapsed = time.perf_counter() - started
        print(
            f'[benchmark] {n}/{len(plan)} {task} {method} seed {seed}: '
            f'{TASKS[task]["unit"]} {row["metric"]:.2f}, {row["step_s"]:.3f} '
            f's/step, {row["wall_s"]:.0f} s (elapsed {elapsed / 60:.1f} min)',
            flush=True)
    print(f'\nMethod benchmark, torch {torch.__version__}, '
          f'{torch.get_num_threads()} CPU threads; results: {args.results}')
    if args.tag:
        print(f'setting {args.tag!r}: {args.cfg_options}')
    print(summarise(rows, args.tasks, args.methods, split_key(args)))
    return rows


def run_options(args, method: str) -> dict:
    """The config options of ``method``'s runs: the training settings for
    the plain model; every setting, ``--cfg-options`` and ``--grad-stats``
    for a distilled method."""
    options = {}
    for name in args.settings:
        if method != 'none' or training_setting(name):
            options.update(SETTINGS[name])
    if method != 'none':
        options.update(args.cfg_options or {})
    if args.grad_stats and method != 'none':
        options['model.grad_stats_interval'] = args.grad_stats
    return options


def check_settings_apply(args, work_dir: str) -> None:
    """Exit before the first run if a setting gives a method's loss an option
    it does not take (e.g. ``--settings infonce`` with ``l2``), rather than
    after the other methods' runs."""
    for task in args.tasks:
        for method in args.methods:
            if METHODS[method] is None:
                continue
            cfg = method_config(task, method, 0, work_dir, None,
                                run_options(args, method))
            try:
                distill_losses.check_loss_cfg(cfg.model.loss.to_dict())
            except distill_losses.UnknownLossOptionError as e:
                raise SystemExit(
                    f'--settings {" ".join(args.settings)} cannot apply to '
                    f'method {method!r} ({task}): {e}. Run that method '
                    'without them, or leave it out of --methods.') from None


def split_key(args) -> str:
    """The result rows' key of ``--split``: 'test', or 'metric' (val);
    val for tasks without a test split of their own."""
    if args.split == 'test' and all(has_test_split(t) for t in args.tasks):
        return 'test'
    return 'metric'


if __name__ == '__main__':
    main()
