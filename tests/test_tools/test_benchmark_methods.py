"""tools/analysis_tools/benchmark_methods.py: a clean loss dict per method,
schedules rescaled, the table's arithmetic."""
import os
import os.path as osp
import signal

import pytest
import torch
from mmengine.config import Config
from muse_test_utils import load_tool

bench = load_tool('tools/analysis_tools/benchmark_methods.py')


@pytest.mark.parametrize('task', [
    'cls', 'cls-hard', 'det', 'det-retina', 'det-hard', 'det-long', 'det-step',
    'det-pre'
])
def test_each_method_gets_a_clean_loss_from_the_muse_config(task, tmp_path):
    """A method's loss is its change (the type, and MUSE's variant) plus the
    MUSE config's options that loss takes (the same sampling) but a
    baseline's weight: nothing else, so the loss accepts every option it is
    given, and a baseline keeps its recipe's weight."""
    from muse_det.models.losses import check_loss_cfg, loss_options
    own = Config.fromfile(osp.join(bench.ROOT, bench.TASKS[task]['config']))
    for method in ('muse', 'muse-mul', 'l2', 'at', 'nst', 'cosine', 'vid',
                   'crd'):
        cfg = bench.method_config(task, method, 0, str(tmp_path))
        change = bench.METHODS[method]
        takes = set(loss_options(change['type']))
        if change['type'] != 'MUSELoss':
            takes.discard('loss_weight')
        loss = cfg.model.loss.to_dict()
        assert loss == dict(
            {k: v
             for k, v in own.model.loss.items() if k in takes},
            **change), method
        assert 'num_samples' not in own.model.loss or (
            loss['num_samples'] == own.model.loss.num_samples), method
        check_loss_cfg(loss)
        assert cfg.model.architecture == own.model.architecture
    if task == 'det-pre':  # MUSE's weight for the regime is MUSE's only
        assert own.model.loss.loss_weight == 0.1
        assert bench.method_config(task, 'muse-mul', 0,
                                   str(tmp_path)).model.loss.loss_weight == 0.1
        assert 'loss_weight' not in bench.method_config(
            task, 'l2', 0, str(tmp_path)).model.loss
    if task == 'cls':  # spelled out once, independently of loss_options
        assert bench.method_config(task, 'l2', 0,
                                   str(tmp_path)).model.loss.to_dict() == dict(
                                       type='l2',
                                       pool=False,
                                       grid=4,
                                       num_samples=16)
    plain = bench.method_config(task, 'none', 0, str(tmp_path))
    assert plain.model == own.model.architecture
    assert not any(h['type'] == 'MUSEHook' for h in plain.custom_hooks)


class Interrupted(Exception):
    pass


def test_an_interrupted_data_generation_leaves_no_set_behind(
        tmp_path, monkeypatch):
    # a set interrupted half-way must not be taken as complete by the next
    # run (nor by a second benchmark started meanwhile)
    root = tmp_path / 'data' / 'toy_coco_multiscale'
    monkeypatch.setitem(bench.TASKS, 'det',
                        dict(bench.TASKS['det'], data=str(root)))

    def interrupt(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)  # the set takes ~30 s
    try:
        with pytest.raises(Interrupted):
            bench.ensure_data('det')
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert os.listdir(tmp_path / 'data') == []


def test_the_hard_classification_set_is_generated_when_missing(
        tmp_path, monkeypatch):
    """cls-hard's set is the generator's hard variant, made where it is
    missing (shrunk here to 4 + 2 + 2 images)."""
    import pickle
    import sys

    import numpy as np
    root = tmp_path / 'data' / 'toy_cifar100_hard'
    monkeypatch.setitem(bench.TASKS, 'cls-hard',
                        dict(bench.TASKS['cls-hard'], data=str(root)))
    monkeypatch.syspath_prepend(osp.join(bench.ROOT, 'tools', 'misc'))
    sys.modules.pop('make_toy_cifar', None)
    import make_toy_cifar as maker
    real = maker.make_toy_cifar
    monkeypatch.setattr(
        maker, 'make_toy_cifar', lambda out, **kw: real(
            out, num_train=4, num_test=2, log_every=0, **kw))
    assert bench.ensure_data('cls-hard') == str(root)
    with open(root / 'cifar-100-python' / 'test', 'rb') as f:
        test = pickle.load(f, encoding='latin1')
    assert len(test['fine_labels']) == 2
    img, label = maker.render_image(0, 'test', 1, 'hard')
    assert test['fine_labels'][1] == label
    np.testing.assert_array_equal(test['data'][1],
                                  img.transpose(2, 0, 1).reshape(-1))


def test_schedules_keep_their_shape_when_rescaled(tmp_path):
    cfg = bench.method_config('det-hard', 'muse', 1, str(tmp_path), iters=125)
    warmup, cosine = cfg.param_scheduler
    # 50 of 250 -> 25 of 125
    assert (warmup['begin'], warmup['end']) == (0, 25)
    assert (cosine['begin'], cosine['end'], cosine['T_max']) == (25, 125, 100)
    assert cfg.train_cfg.max_iters == cfg.train_cfg.val_interval == 125
    assert cfg.randomness.seed == 1
    tiny = bench.method_config('cls', 'muse', 0, str(tmp_path), iters=2)
    assert [(s['begin'], s['end']) for s in tiny.param_scheduler] == [(0, 1),
                                                                      (1, 2)]
    # step milestones (7200 and 9600 of 12000) keep their share too
    step = bench.method_config(
        'det-step', 'none', 0, str(tmp_path), iters=3000)
    warmup, steps = step.param_scheduler
    assert (warmup['end'], steps['end'], steps['milestones']) == (50, 3000,
                                                                  [1800, 2400])
    assert bench.method_config(
        'det-step', 'none', 0, str(tmp_path),
        iters=4).param_scheduler[1]['milestones'] == [2, 3]


def test_settings_change_the_distilled_methods_only(tmp_path):
    """Named settings become the tag and change every distilled method's
    config (later settings win); the plain model ignores them."""
    args = bench.parse_args(
        ['--tasks', 'det', '--settings', 'fpn-head', 'box4', 'w0.3'])
    assert args.tag == 'fpn-head+box4+w0.3'
    options = {}
    for name in args.settings:
        options.update(bench.SETTINGS[name])
    for method in ('muse', 'l2'):
        cfg = bench.method_config(
            'det', method, 0, str(tmp_path), cfg_options=options)
        assert cfg.model.pairs[3] == ['neck[3]', 'bbox_head.cls_convs.1@3']
        assert cfg.model.loss.box_weight == 4.0
        assert cfg.model.loss.loss_weight == 0.3
    # the shipped detection configs run without warm-up; a setting puts the
    # former one back
    assert bench.method_config('det', 'muse', 0, str(tmp_path)).custom_hooks \
        == [dict(type='MUSEHook')]
    for setting, iters in (('no-warmup', 0), ('warmup-200', 200)):
        warm = bench.method_config(
            'det',
            'muse',
            0,
            str(tmp_path),
            cfg_options=bench.SETTINGS[setting])
        assert warm.custom_hooks == [dict(type='MUSEHook', warmup_iters=iters)]
    with pytest.raises(SystemExit):
        bench.parse_args(['--settings', 'no-such-setting'])


def test_cost_settings_build_the_cheaper_muse_they_name(tmp_path):
    """The cost knobs reach the built classifier distiller: one target
    adapter per pair, the embedding size of adapters and critic heads, the
    locations per image."""
    from mmengine.registry import MODELS, init_default_scope
    options = {}
    for name in ('per-pair-adapter', 'e32', 'n4'):
        options.update(bench.SETTINGS[name])
    cfg = bench.method_config(
        'cls', 'muse-mul', 0, str(tmp_path), cfg_options=options)
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    pairs = model.pair_losses
    assert len({id(p.target_adapter) for p in pairs}) == len(pairs) == 3
    assert all(p.embed_dim == 32 and p.critic.f.out_features == 32
               and p.sampler.num_samples == 4 for p in pairs)


def test_table_has_a_row_per_setting():
    rows = [
        dict(
            task='det',
            method=m,
            tag=tag,
            seed=s,
            iters=10,
            metric=v,
            step_s=0.1)
        for m, tag, s, v in (('none', '', 0, 10.0), ('none', '', 1, 12.0),
                             ('muse', 'w0.3', 0, 11.0), ('muse', 'w0.3', 1,
                                                         14.0),
                             ('muse', 'w1', 0, 9.0), ('muse', 'w1', 1, 11.0))
    ]
    table = bench.summarise(rows, ['det'], ['none', 'muse'])
    assert '| muse [w0.3] | 12.50 +- 2.12 | 2 | 11.00, 14.00 | +1.50' in table
    assert '| muse [w1] | 10.00 +- 1.41 | 2 | 9.00, 11.00 | -1.00' in table


def test_schedules_of_different_length_get_their_own_tables():
    """Runs of 300 and 600 iterations are never averaged or paired
    together."""
    rows = [
        dict(task='cls', method=m, seed=s, iters=i, metric=v, step_s=0.1)
        for m, s, i, v in (('none', 0, 300, 80.0), ('none', 0, 600, 98.0),
                           ('muse', 0, 300, 88.0), ('none', 1, 300, 82.0),
                           ('muse', 1, 300, 89.0))
    ]
    table = bench.summarise(rows, ['cls'], ['none', 'muse'])
    first, second = table.split('cls: top-1 %, 600 iterations')
    assert 'cls: top-1 %, 300 iterations' in first
    assert '| none | 81.00 +- 1.41 | 2 |' in first
    assert '| muse | 88.50 +- 0.71 | 2 | 88.00, 89.00 | +7.50 [' in first
    assert '| none | 98.00 +- nan | 1 |' in second and 'muse' not in second


def test_table_mean_sd_and_step_ratio():
    rows = [
        dict(task='cls', method=m, seed=s, iters=10, metric=v, step_s=t)
        for m, s, v, t in (('none', 0, 60.0, 0.10), ('none', 1, 62.0, 0.10),
                           ('muse', 0, 70.0, 0.12), ('muse', 1, 74.0, 0.13))
    ]
    rows[2]['grad_ratio'] = {'neck.0': 0.2, 'neck.1': 0.5}
    rows[3]['grad_ratio'] = {'neck.0': 0.4, 'neck.1': 0.7}
    table = bench.summarise(rows, ['cls'], ['none', 'muse'])
    assert ('| none | 61.00 +- 1.41 | 2 | 60.00, 62.00 |  |  | 0.100 | 1.000 |'
            in table)
    # paired: diffs +10, +12 -> mean 11, sd 1.41, se 1, t = 11; 95 % CI
    # 11 -+ t_{0.975, 1} (12.706) * 1; p = 2 P(T_1 > 11) = 0.0577
    assert (
        '| muse | 72.00 +- 2.83 | 2 | 70.00, 74.00 | +11.00 [-1.71, +23.71] '
        '(t +11.00, p 0.0577) | +10.00, +12.00 | 0.125 | 1.250 |') in table
    assert '- muse: neck.0 0.3, neck.1 0.6' in table


def test_muse_rows_are_paired_with_the_best_baseline():
    rows = [
        dict(task='cls', method=m, seed=s, iters=10, metric=v, step_s=0.1)
        for m, s, v in (('none', 0, 60.0), ('none', 1, 62.0), ('l2', 0, 70.0),
                        ('l2', 1, 71.0), ('crd', 0, 75.0), ('crd', 1, 74.0),
                        ('muse', 0, 78.0), ('muse', 1, 75.0))
    ]
    table = bench.summarise(rows, ['cls'], ['none', 'muse', 'l2', 'crd'])
    # crd has the highest baseline mean (74.5): diffs +3, +1 -> mean 2,
    # sd 1.41, se 1, t = 2.00; CI 2 -+ 12.706
    lines = table.splitlines()[5:]  # the rows: none, muse, l2, crd
    assert lines[1].endswith(
        '| +2.00 [-10.71, +14.71] (t +2.00, p 0.295) vs crd |')
    assert [line.endswith('|  |')
            for line in lines] == [True, False, True, True]


def test_paired_difference_uses_only_seeds_both_ran():
    d = bench.paired({0: 5.0, 1: 7.0, 2: 9.0}, {0: 4.0, 1: 4.0, 3: 0.0})
    assert d['seeds'] == [0, 1] and d['diffs'] == [1.0, 3.0]
    assert d['mean'] == 2.0 and d['t'] == pytest.approx(2.0 /
                                                        (2**0.5 / 2**0.5))
    assert bench.paired({0: 1.0}, {0: 0.0}) is None


def test_relative_paths_are_kept_where_the_user_ran_the_tool(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = bench.parse_args(['--results', 'r.jsonl', '--work-dir', 'runs'])
    assert args.results == os.path.join(str(tmp_path), 'r.jsonl')
    assert args.work_dir == os.path.join(str(tmp_path), 'runs')
    with pytest.raises(SystemExit):
        # needs --tag
        bench.parse_args(['--cfg-options', 'model.loss.loss_weight=0.5'])


def test_last_fifth_change_is_the_convergence_check():
    curve = [[200, 5.0], [400, 9.0], [600, 12.0], [800, 14.0], [1000, 14.5]]
    # 80 % of 1000 is 800: 14.5 - 14.0
    assert bench.last_fifth_change(curve, 1000) == pytest.approx(0.5)
    # 80 % of 900 is 720: the latest point at or before it is 600
    assert bench.last_fifth_change(curve[:-1], 900) == pytest.approx(2.0)
    assert bench.last_fifth_change([[1000, 3.0]], 1000) is None


def test_curve_keeps_every_validation_and_the_last_is_the_metric(tmp_path):
    results = tmp_path / 'r.jsonl'
    rows = bench.main([
        '--tasks', 'cls', '--methods', 'none', '--seeds', '0', '--cls-iters',
        '4', '--curve', '2', '--threads', '1', '--results',
        str(results), '--work-dir',
        str(tmp_path / 'runs')
    ])
    (row, ) = rows
    assert [it for it, _ in row['curve']] == [2, 4]
    assert row['curve'][-1][1] == row['metric']
    (stored, ) = bench.load_results(str(results))
    assert stored['curve'] == row['curve']
    table = bench.summarise(rows, ['cls'], ['none'])
    first, last = (m for _, m in row['curve'])
    assert ('learning curves on the validation split (every 2 iterations)'
            in table)
    assert (f'| none | 0 | {first:.2f} | {last:.2f} | {last - first:+.2f} |'
            in table)
    with pytest.raises(SystemExit):
        bench.parse_args(['--curve', '0'])


def test_paired_interval_and_p_value_are_scipys():
    from scipy import stats
    values = {0: 57.3, 1: 57.5, 2: 58.8, 3: 58.2, 4: 57.8}
    base = {0: 51.1, 1: 57.4, 2: 53.1, 3: 52.4, 4: 49.9}
    d = bench.paired(values, base)
    ref = stats.ttest_rel(list(values.values()), list(base.values()))
    assert d['t'] == pytest.approx(ref.statistic)
    assert d['p'] == pytest.approx(ref.pvalue)
    lo, hi = ref.confidence_interval(0.95)
    assert d['ci'] == (pytest.approx(lo), pytest.approx(hi))
    # a placebo that equals the plain model on every seed
    same = bench.paired(base, base)
    assert (same['mean'], same['ci'], same['p']) == (0.0, (0.0, 0.0), 1.0)


def test_test_table_reports_the_settings_chosen_on_val():
    """The plain reference and the best baseline are the settings best on
    val; the table shows their test values."""
    rows = []
    for m, tag, val, test in (('none', '', 50, 40), ('none', 'lr2', 52,
                                                     41), ('muse', '', 55, 44),
                              ('l2', 'w1', 53, 39), ('l2', 'w10', 51, 43)):
        for seed in (0, 1, 2):
            rows.append(
                dict(
                    task='det',
                    method=m,
                    tag=tag,
                    seed=seed,
                    iters=10,
                    metric=val + seed,
                    test=test + seed * seed,
                    step_s=0.1))
    table = bench.summarise(rows, ['det'], ['none', 'muse', 'l2'], 'test')
    assert 'metric on the test split' in table
    assert 'plain reference: none [lr2] (the plain setting best on val)' in (
        table)
    # muse test 44, 45, 48 against none [lr2] 41, 42, 45: +3 on every seed
    assert '| muse | 45.67 +- 2.08 | 3 | 44.00, 45.00, 48.00 | +3.00 ' \
        '[+3.00, +3.00] (t +inf, p 0) |' in table
    # l2 [w1] is the best baseline on val (53) although w10 tests higher
    assert table.splitlines()[7].endswith('vs l2 [w1] |')
    # rows that predate the test split show their validation values
    old = [{k: v for k, v in r.items() if k != 'test'} for r in rows]
    assert 'the validation split (these runs predate the test split)' in (
        bench.summarise(old, ['det'], ['none', 'muse', 'l2'], 'test'))
    val_table = bench.summarise(rows, ['det'], ['none', 'muse', 'l2'])
    assert 'metric on the validation split' in val_table
    assert '| muse | 56.00 +- 1.00 | 3 | 55.00, 56.00, 57.00 |' in val_table


def test_training_settings_reach_the_plain_model(tmp_path):
    """lr0.5 / lr2 scale the plain model's learning rate too (the plain
    model is swept like MUSE); the placebo weights MUSE by 0."""
    base = bench.method_config('det-pre', 'none', 0, str(tmp_path))
    assert bench.training_setting('lr2')
    assert not bench.training_setting('placebo')
    for method in ('none', 'muse-mul'):
        cfg = bench.method_config(
            'det-pre',
            method,
            0,
            str(tmp_path),
            cfg_options=dict(bench.SETTINGS['lr2']))
        assert cfg.optim_wrapper.optimizer.lr == pytest.approx(
            2 * base.optim_wrapper.optimizer.lr)
    placebo = bench.method_config(
        'det-pre',
        'muse-mul',
        0,
        str(tmp_path),
        cfg_options=dict(bench.SETTINGS['placebo']))
    assert placebo.model.loss.loss_weight == 0.0
    assert placebo.model.architecture == base.model
    # the pretrained regime as mmdet's COCO configs train
    backbone = base.model.backbone
    assert (backbone.frozen_stages, backbone.norm_eval) == (1, True)
    assert backbone.init_cfg.type == 'Pretrained'
    assert backbone.init_cfg.prefix == 'backbone.'


def test_gn_backbone_puts_groupnorm_in_every_methods_detector(tmp_path):
    """``gn-backbone`` is a training setting: the plain detector and the
    detector MUSE wraps get the same GroupNorm backbone, which builds and
    keeps the stages' widths."""
    from mmengine.registry import MODELS, init_default_scope
    assert bench.training_setting('gn-backbone')
    gn = dict(bench.SETTINGS['gn-backbone'])
    plain = bench.method_config(
        'det-step', 'none', 0, str(tmp_path), cfg_options=gn)
    muse = bench.method_config(
        'det-step', 'muse-mul', 0, str(tmp_path), cfg_options=gn)
    assert muse.model.architecture == plain.model
    assert plain.model.backbone.norm_cfg.type == 'GN'
    # the setting's dict is not consumed: the next run gets it again
    assert bench.SETTINGS['gn-backbone'][bench.ARCHITECTURE]
    init_default_scope('mmdet')
    backbone = MODELS.build(plain.model).backbone
    norms = [
        m for m in backbone.modules()
        if isinstance(m, (torch.nn.GroupNorm, torch.nn.BatchNorm2d))
    ]
    # ResNet-18: the stem, two per basic block, three downsample shortcuts
    assert len(norms) == 1 + 2 * 8 + 3
    assert all(isinstance(m, torch.nn.GroupNorm) for m in norms)
    outs = backbone(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 32, 64, 128]
    default = bench.method_config('det-step', 'none', 0, str(tmp_path))
    assert default.model.backbone.norm_cfg.type == 'BN'


def test_a_setting_a_method_cannot_take_stops_before_any_run(tmp_path):
    """``--settings infonce`` names a MUSE option: with ``l2`` among the
    methods the benchmark exits before its first run, naming the method and
    the option, instead of failing after MUSE's runs."""
    results = tmp_path / 'r.jsonl'
    with pytest.raises(SystemExit, match=r"method 'l2'.*'mi_estimator'"):
        bench.main([
            '--tasks', 'cls', '--methods', 'muse', 'l2', '--settings',
            'infonce', '--seeds', '0', '--results',
            str(results), '--work-dir',
            str(tmp_path / 'runs')
        ])
    assert not results.exists() and not (tmp_path / 'runs').exists()
    # a setting every method takes passes the check
    args = bench.parse_args(
        ['--tasks', 'cls', '--methods', 'l2', 'at', '--settings', 'w0.3'])
    bench.check_settings_apply(args, str(tmp_path / 'runs'))


@pytest.mark.usefixtures('one_thread')  # main sets the thread count
def test_a_run_from_other_inputs_is_refused_before_it_starts(
        tmp_path, monkeypatch):
    """Rows pair only when they read the same toy set and backbone: the
    digest follows every file's bytes and the backbone's tensors (not the
    name its file was saved under); a run records it, and a run whose digest
    differs from the file's rows of its task and schedule (or finds rows
    without one) stops before any run starts, naming what it found and the
    fix."""
    import torch
    root = tmp_path / 'set'
    (root / 'annotations').mkdir(parents=True)
    (root / 'annotations' / 'instances_test.json').write_text('{}')
    (root / 'train').mkdir()
    (root / 'train' / '000001.jpg').write_bytes(b'a')
    backbone = tmp_path / 'backbone.pth'
    weights = {'backbone.conv1.weight': torch.ones(2, 3)}
    torch.save(dict(state_dict=weights, meta=dict(top1=1.0)), backbone)
    monkeypatch.setitem(
        bench.TASKS, 'det-pre',
        dict(bench.TASKS['det-pre'], data=str(root), pretrained=str(backbone)))
    first = bench.input_digest('det-pre')
    assert len(first) == 12 and bench.input_digest('det-pre') == first
    # the same tensors saved again (other meta, other file name inside)
    with open(backbone, 'wb') as f:
        torch.save(dict(state_dict=weights, meta=dict(top1=2.0)), f)
    assert bench.input_digest('det-pre') == first
    (root / 'train' / '000001.jpg').write_bytes(b'b')
    image_changed = bench.input_digest('det-pre')
    weights['backbone.conv1.weight'][0, 0] = 2.0
    torch.save(dict(state_dict=weights), backbone)
    backbone_changed = bench.input_digest('det-pre')
    assert len({first, image_changed, backbone_changed}) == 3

    # a run records the digest of what it read
    row = dict(
        task='det-pre',
        method='none',
        tag='',
        seed=0,
        iters=6,
        threads=1,
        metric=52.3,
        test=52.7,
        step_s=0.1,
        wall_s=1.0)
    ran = []

    def run_one(task, method, seed, *args):
        ran.append((task, method, seed))
        return dict(row, seed=seed)

    monkeypatch.setattr(bench, 'run_one', run_one)
    results = tmp_path / 'r.jsonl'
    argv = [
        '--tasks', 'det-pre', '--methods', 'none', '--det-iters', '6',
        '--threads', '1', '--results',
        str(results), '--work-dir',
        str(tmp_path / 'runs')
    ]
    bench.main(argv + ['--seeds', '0'])
    assert [r['inputs']
            for r in bench.load_results(str(results))] == [backbone_changed]
    # other inputs: refused before any run, the file unchanged
    (root / 'train' / '000001.jpg').write_bytes(b'c')
    now = bench.input_digest('det-pre')
    before = results.read_text()
    with pytest.raises(SystemExit) as refused:
        bench.main(argv + ['--seeds', '1', '2'])
    message = str(refused.value)
    assert backbone_changed in message and now in message
    assert 'another --results file' in message
    assert results.read_text() == before and ran == [('det-pre', 'none', 0)]
    # rows that recorded no digest cannot show what they read, whatever
    # their thread count
    with pytest.raises(SystemExit, match='1 rows that record no inputs'):
        bench.check_same_inputs([dict(row, threads=2)], 'det-pre', 6, now,
                                str(results))
    # the same inputs, or another schedule, pair or do not meet: no refusal
    bench.check_same_inputs([dict(row, inputs=now)], 'det-pre', 6, now,
                            str(results))
    bench.check_same_inputs([row], 'det-pre', 3000, now, str(results))
