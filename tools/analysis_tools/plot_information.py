"""Plot the information terms, the distillation loss and the task metric
of training runs.

Reads ``<work_dir>/<timestamp>/vis_data/scalars.json`` (written by mmengine's
LocalVisBackend) of each work dir and draws five panels: the per-pair MI
estimate (``mi/<student>--<target>``), the per-layer entropy
(``entropy/<layer>``), the distillation loss (``loss_muse``, ``loss_l2``, ...),
the validation metric and the gradient balance per student feature
(``grad_ratio/<layer>``, logged with ``model.grad_stats_interval``), all over
training iterations. Runs are told apart by colour, pairs and layers by line
style; a baseline run (no ``mi/``/``entropy/`` scalars) still shows in the loss
and metric panels.

    python tools/analysis_tools/plot_information.py work_dirs/muse work_dirs/l2 \\
        --labels MUSE L2 --out information.png [--metric coco/bbox_mAP] [--smooth 10]

``WORK_DIR`` may also be a ``<timestamp>`` folder, a ``vis_data`` folder or a
scalars.json file. By default the newest scalars.json of a work dir is read;
``--all-runs`` concatenates all of them in time order (a resumed run), later
values winning where iterations repeat.
"""  # noqa: E501 (usage lines)
import argparse
import glob
import json
import math
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

# Distillation loss keys: the distiller logs ``loss_<method>``
# (``loss_distill`` when its pairs mix methods); the methods are the names of
# muse_det.information.PAIR_LOSSES (a test checks).
DISTILL_METHODS = ('muse', 'l2', 'at', 'nst', 'cosine', 'vid', 'crd',
                   'distill')
WEIGHT_SCALE = 'muse_weight_scale'
DEFAULT_METRICS = ('coco/bbox_mAP', 'coco/segm_mAP', 'accuracy/top1')
TRAIN_META = ('iter', 'step', 'epoch')
VAL_META = ('step', 'time', 'data_time')
LINE_STYLES = [
    '-', '--', ':', '-.', (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3)),
    (0, (8, 3, 2, 3))
]

ENABLE_HINT = (
    'Training writes it through mmengine\'s LocalVisBackend: keep (or add) in '
    'the config\n'
    "    visualizer = dict(type='DetLocalVisualizer', "
    "vis_backends=[dict(type='LocalVisBackend')], "
    "name='visualizer')\n(mmdet's default_runtime.py has it) and a LoggerHook "
    "(default_hooks.logger = dict(type='LoggerHook', interval=N)); scalars "
    'are written every N '
    'iterations and after each validation.')

Series = Tuple[np.ndarray, np.ndarray]


@dataclass
class RunScalars:
    """The scalars of one run: ``train``/``val`` map a key to
    (iterations, values)."""
    label: str
    work_dir: str
    files: List[str]
    train: Dict[str, Series] = field(default_factory=dict)
    val: Dict[str, Series] = field(default_factory=dict)

    def keys(self, prefix: str) -> List[str]:
        return sorted(k for k in self.train if k.startswith(prefix))

    @property
    def mi_keys(self) -> List[str]:
        return self.keys('mi/')

    @property
    def entropy_keys(self) -> List[str]:
        return self.keys('entropy/')

    @property
    def grad_ratio_keys(self) -> List[str]:
        return self.keys('grad_ratio/')

    @property
    def loss_keys(self) -> List[str]:
        return sorted(k for k in self.train if is_distill_loss(k))


def is_distill_loss(key: str) -> bool:
    return key.startswith('loss_') and key[len('loss_'):] in DISTILL_METHODS


def find_scalars(path: str, all_runs: bool = False) -> List[str]:
    """The scalars.json files of a work dir: the newest, or all
    in time order."""
    if not osp.exists(path):
        raise FileNotFoundError(f'work dir {path!r} does not exist')
    if osp.isfile(path):
        return [path]
    candidates = [
        osp.join(path, 'scalars.json'),
        osp.join(path, 'vis_data', 'scalars.json')
    ]
    direct = [c for c in candidates if osp.isfile(c)]
    if direct:
        return direct[:1]
    # <work_dir>/<timestamp>/vis_data/scalars.json; timestamps
    # (YYYYMMDD_HHMMSS) sort in time
    found = sorted(
        glob.glob(
            osp.join(glob.escape(path), '*', 'vis_data', 'scalars.json')),
        key=lambda p:
        (osp.basename(osp.dirname(osp.dirname(p))), os.path.getmtime(p)))
    if not found:
        raise FileNotFoundError(
            f'no scalars.json under {path!r} (looked for '
            f'{path}/<timestamp>/vis_data/scalars.json).\n{ENABLE_HINT}')
    return found if all_runs else found[-1:]


def _number(value) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def read_scalars(
        files: Sequence[str]) -> Tuple[Dict[str, Series], Dict[str, Series]]:
    """Training and validation series of scalars.json files read in order.

    Training lines carry ``iter``. Validation lines do not; their ``step`` is
    the epoch (0 for every validation of an iteration-based run with mmengine's
    default ``log_metric_by_epoch=True``), so each is placed at the iteration
    of the last training line before it (at its ``step`` when no training line
    precedes it, e.g. a test run).
    """
    train: Dict[str, Dict[float, float]] = {}
    val: Dict[str, Dict[float, float]] = {}
    last_iter: Optional[float] = None
    for path in files:
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    # a run being written: the last line may be incomplete
                    print(
                        f'warning: {path}:{lineno}: not a JSON line, skipped',
                        file=sys.stderr)
                    continue
                if 'iter' in row:
                    x, target, meta = float(row['iter']), train, TRAIN_META
                    last_iter = x
                else:
                    x = last_iter if last_iter is not None else float(
                        row.get('step', 0))
                    target, meta = val, VAL_META
                for key, value in row.items():
                    value = _number(value)
                    if key in meta or value is None:
                        continue
                    # a repeated iteration: later wins
                    target.setdefault(key, {})[x] = value

    def arrays(table):
        out = {}
        for key, points in table.items():
            xs = np.array(sorted(points), dtype=np.float64)
            out[key] = (xs, np.array([points[x] for x in xs],
                                     dtype=np.float64))
        return out

    return arrays(train), arrays(val)


def load_run(work_dir: str,
             label: Optional[str] = None,
             all_runs: bool = False) -> RunScalars:
    """Find and parse the scalars of one work dir
    (see :func:`find_scalars`)."""
    files = find_scalars(work_dir, all_runs=all_runs)
    train, val = read_scalars(files)
    if label is None:
        label = osp.basename(osp.normpath(work_dir)) or work_dir
    return RunScalars(
        label=label, work_dir=work_dir, files=files, train=train, val=val)


def pick_metric(runs: Sequence[RunScalars],
                metric: Optional[str]) -> Optional[str]:
    """The metric to plot: ``metric`` if some run has it, else a default;
    errors list keys."""
    available = sorted({k for r in runs for k in r.val})
    if metric is not None:
        if metric not in available:
            listing = ', '.join(
                available) if available else 'none (no validation logged yet)'
            raise KeyError(
                f'metric {metric!r} is in no run; validation keys available: '
                f'{listing}')
        return metric
    for candidate in DEFAULT_METRICS:
        if candidate in available:
            return candidate
    return available[0] if available else None


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` points
    (shorter at the start)."""
    if window <= 1 or len(values) < 2:
        return values
    csum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def _short(key: str) -> str:
    name = key.split('/', 1)[1] if '/' in key else key
    return name.replace('--', ' \u2192 ')


def plot_runs(runs: Sequence[RunScalars],
              out: str,
              metric: Optional[str] = None,
              smooth_window: int = 1,
              title: Optional[str] = None,
              dpi: int = 110) -> str:
    """Draw the five panels for ``runs`` into the PNG ``out``;
    returns ``out``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    metric = pick_metric(runs, metric)
    colours = plt.get_cmap('tab10').colors
    fig, axes = plt.subplots(3, 2, figsize=(13, 12.5), dpi=dpi, sharex=True)
    axes[2, 1].set_visible(False)
    panels = [
        (axes[0, 0], 'mutual information per pair', 'MI estimate (nats)',
         lambda r: r.mi_keys, 'mi/* (MUSE runs only)'),
        (axes[0, 1], 'entropy per layer (student features)', 'entropy (nats)',
         lambda r: r.entropy_keys, 'entropy/* (MUSE runs only)'),
        (axes[2, 0], 'gradient balance per student feature',
         '||dL_distill/dF|| / ||dL_task/dF||', lambda r: r.grad_ratio_keys,
         'grad_ratio/* (set model.grad_stats_interval)'),
    ]
    smooth_note = f'smoothed over {smooth_window}' if smooth_window > 1 else ''
    for ax, panel_title, ylabel, keys_of, what in panels:
        names = sorted({_short(k) for r in runs for k in keys_of(r)})
        style_of = {
            n: LINE_STYLES[i % len(LINE_STYLES)]
            for i, n in enumerate(names)
        }
        drawn = False
        for ci, run in enumerate(runs):
            for key in keys_of(run):
                _curve(ax, run.train[key], colours[ci % len(colours)],
                       style_of[_short(key)], smooth_window)
                drawn = True
        if not drawn:
            ax.text(
                0.5,
                0.5,
                f'no {what} in these runs',
                transform=ax.transAxes,
                ha='center',
                va='center',
                color='0.4')
        if len(names) > 1:  # line styles: which pair / layer
            handles = [
                Line2D([], [], color='0.2', linestyle=style_of[n], label=n)
                for n in names
            ]
            ax.legend(
                handles=handles,
                fontsize=8,
                loc='best',
                framealpha=0.85,
                ncol=2 if len(names) > 4 else 1)
        ax.set_title(
            panel_title +
            (f' ({smooth_note})' if smooth_note and drawn else ''),
            fontsize=10)
        ax.set_ylabel(ylabel)

    # Distillation loss: coloured by run, labelled with its key (the methods'
    # losses have different units; a log-like scale keeps them all readable).
    ax = axes[1, 0]
    handles, series = [], []
    for ci, run in enumerate(runs):
        for li, key in enumerate(run.loss_keys):
            style = LINE_STYLES[li % len(LINE_STYLES)]
            _curve(ax, run.train[key], colours[ci % len(colours)], style,
                   smooth_window)
            handles.append(
                Line2D([], [],
                       color=colours[ci % len(colours)],
                       linestyle=style,
                       label=f'{run.label}: {key}'))
            series.append(run.train[key][1])
    scale_note = _loss_scale(ax, series)
    if handles:
        ax.legend(
            handles=handles, fontsize=8, loc='upper left', framealpha=0.85)
    else:
        ax.text(
            0.5,
            0.5,
            'no loss_<method> in these runs',
            transform=ax.transAxes,
            ha='center',
            va='center',
            color='0.4')
    notes = [n for n in (smooth_note if handles else '', scale_note) if n]
    ax.set_title(
        'distillation loss as logged' +
        (f' ({", ".join(notes)})' if notes else ''),
        fontsize=10)
    ax.set_ylabel('loss (weighted, warm-up scaled)')

    _draw_weight_scale(axes[1, 0], runs, colours)

    ax = axes[1, 1]
    drawn = False
    for ci, run in enumerate(runs):
        if metric in run.val:
            xs, ys = run.val[metric]
            ax.plot(
                xs,
                ys,
                marker='o',
                color=colours[ci % len(colours)],
                linewidth=1.6)
            drawn = True
    if not drawn:
        ax.text(
            0.5,
            0.5,
            'no validation metric logged yet',
            transform=ax.transAxes,
            ha='center',
            va='center',
            color='0.4')
    ax.set_title(f'validation {metric or "metric"}', fontsize=10)
    ax.set_ylabel(metric or '')

    for ax in axes.flat[:5]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelbottom=True)
        ax.set_xlabel('iteration')
        ax.grid(True, alpha=0.3)
    run_handles = [
        Line2D([], [],
               color=colours[i % len(colours)],
               linewidth=2.5,
               label=run.label) for i, run in enumerate(runs)
    ]
    fig.legend(
        handles=run_handles,
        loc='upper center',
        ncol=min(len(runs), 6),
        fontsize=10,
        frameon=False,
        bbox_to_anchor=(0.5, 0.965))
    fig.suptitle(
        title or 'MUSE information terms during training',
        fontsize=12,
        y=0.995)
    fig.tight_layout(rect=(0, 0, 1, 0.955))
    out_dir = osp.dirname(osp.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def _curve(ax, series: Series, colour, style, smooth_window: int):
    xs, ys = series
    if smooth_window > 1:  # raw values stay visible, faint
        ax.plot(
            xs, ys, color=colour, linestyle=style, linewidth=0.7, alpha=0.25)
    ax.plot(
        xs,
        smooth(ys, smooth_window),
        color=colour,
        linestyle=style,
        linewidth=1.6)


def _loss_scale(ax,
                series: Sequence[np.ndarray],
                max_ratio: float = 30.0) -> str:
    """A symmetric-log y scale when the curves' typical magnitudes differ
    by > max_ratio."""
    magnitudes = [float(np.median(np.abs(v))) for v in series if len(v)]
    magnitudes = [m for m in magnitudes if m > 0]
    if len(magnitudes) < 2 or max(magnitudes) / min(magnitudes) <= max_ratio:
        return ''
    ax.set_yscale('symlog', linthresh=min(magnitudes))
    return 'symlog scale'


def _draw_weight_scale(ax, runs, colours):
    """MUSEHook's ``muse_weight_scale`` (warm-up / stop) on a right axis,
    where it varies."""
    varying = [
        (i, run.train[WEIGHT_SCALE]) for i, run in enumerate(runs)
        if WEIGHT_SCALE in run.train and np.ptp(run.train[WEIGHT_SCALE][1]) > 0
    ]
    if not varying:
        return
    twin = ax.twinx()
    for i, (xs, ys) in varying:
        twin.plot(
            xs,
            ys,
            color=colours[i % len(colours)],
            linestyle=(0, (1, 2)),
            linewidth=1.2,
            alpha=0.7)
    twin.set_ylim(0, 1.05)
    twin.set_ylabel('weight scale (dotted)', color='0.35')
    twin.tick_params(axis='y', colors='0.35')


def describe(run: RunScalars) -> str:
    iters = [x for xs, _ in run.train.values()
             for x in (xs[0], xs[-1])] or [math.nan]
    n_train = max((len(xs) for xs, _ in run.train.values()), default=0)
    n_val = max((len(xs) for xs, _ in run.val.values()), default=0)
    lines = [
        f'run {run.label!r}: {len(run.files)} file(s): {", ".join(run.files)}',
        f'  training: {n_train} points (iter {min(iters):g}..{max(iters):g}); '
        f'validation: {n_val} points'
    ]
    for what, keys in (('mi', run.mi_keys), ('entropy', run.entropy_keys),
                       ('gradient ratio', run.grad_ratio_keys),
                       ('distillation loss',
                        run.loss_keys), ('validation', sorted(run.val))):
        lines.append(
            f'  {what} keys ({len(keys)}): {", ".join(keys) if keys else "-"}')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot MI, entropy, distillation loss and the validation '
        'metric of runs.')
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR')
    parser.add_argument(
        '--out', default='information_curves.png', help='PNG to write')
    parser.add_argument(
        '--labels', nargs='+', help='one label per work dir (default: names)')
    parser.add_argument(
        '--metric',
        help='validation key (default: coco/bbox_mAP, '
        'coco/segm_mAP or accuracy/top1, whichever was logged)')
    parser.add_argument(
        '--smooth',
        type=int,
        default=1,
        metavar='N',
        help='moving average over N logged points (raw curves stay faint)')
    parser.add_argument(
        '--all-runs',
        action='store_true',
        help='read every scalars.json of a work dir (resumed runs), not '
        'only the newest')
    parser.add_argument('--title')
    args = parser.parse_args(argv)
    if args.labels and len(args.labels) != len(args.work_dirs):
        parser.error(
            f'--labels needs one label per work dir ({len(args.work_dirs)}), '
            f'got {len(args.labels)}')
    if args.smooth < 1:
        parser.error('--smooth must be >= 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    labels = args.labels or [None] * len(args.work_dirs)
    try:
        runs = [
            load_run(w, label, args.all_runs)
            for w, label in zip(args.work_dirs, labels)
        ]
        names = [r.label for r in runs]
        # same folder names: use paths
        if not args.labels and len(set(names)) < len(names):
            for r in runs:
                r.label = osp.normpath(r.work_dir)
        for run in runs:
            print(describe(run))
        out = plot_runs(
            runs,
            args.out,
            metric=args.metric,
            smooth_window=args.smooth,
            title=args.title)
    except (FileNotFoundError, KeyError) as e:
        message = e.args[0] if e.args else str(e)
        print(f'error: {message}', file=sys.stderr)
        raise SystemExit(1)
    print(f'wrote {osp.abspath(out)}')
    return runs, out


if __name__ == '__main__':
    main()
