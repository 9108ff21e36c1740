"""The repository keeps its promises: README commands, CI, configs that parse,
package configs."""
import ast
import glob
import os.path as osp
import re
import subprocess
import sys

import pytest
import yaml
from muse_test_utils import ROOT

from muse_det.utils.launch import load_config


def _quick_start_commands():
    with open(osp.join(ROOT, 'README.md')) as f:
        text = f.read()
    section = text.split('## Install', 1)[1].split('\n## ', 1)[0]
    block = re.search(r'```bash\n(.*?)```', section, re.S).group(1)
    return [
        ln.split('#')[0].strip() for ln in block.splitlines()
        if ln.split('#')[0].strip()
    ]


def test_readme_has_two_commands_and_ci_runs_the_test_one_verbatim():
    commands = _quick_start_commands()
    assert commands == ['bash tools/demo.sh', 'bash tools/run_tests.sh']
    with open(osp.join(ROOT, '.ci', 'run')) as f:
        ci = [ln.strip() for ln in f if ln.strip() and not ln.startswith('#')]
    assert commands[1] in ci
    for cmd in commands:
        assert osp.isfile(osp.join(ROOT, cmd.split()[1]))
    # the end-to-end runs are marked slow for local use; CI must still run them
    with open(osp.join(ROOT, 'tools', 'run_tests.sh')) as f:
        runner = f.read()
    assert 'not slow' not in runner and 'not slow' not in ' '.join(ci)


CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_every_config_parses(path):
    from mmengine.config import Config

    import muse_det  # noqa: F401
    cfg = Config.fromfile(path)
    assert 'model' in cfg and 'type' in cfg.model


def test_package_configs_resolve_from_any_directory(tmp_path):
    cfg_file = tmp_path / 'mine.py'
    cfg_file.write_text(
        "_base_ = 'muse_det::muse/muse_retinanet_r50_fpn_1x_coco.py'\n"
        "model = dict(loss=dict(variant='additive'))\n")
    code = ('from mmengine.config import Config, utils\n'
            'from muse_det.utils.package_configs import package_config_paths\n'
            'with package_config_paths():\n'
            f'    c = Config.fromfile({str(cfg_file)!r})\n'
            "assert 'muse_det' not in utils.MODULE2PACKAGE\n"
            'print(c.model.type, c.model.architecture.type, '
            'c.model.loss.variant)\n')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=str(tmp_path),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-3:] == [
        'MUSESelfDistiller', 'RetinaNet', 'additive'
    ]
    # the tools load configs inside package_config_paths()
    assert load_config(str(cfg_file)).model.loss.variant == 'additive'


def test_every_warmup_ends_inside_its_run():
    """Each config's MUSEHook warm-up (a tuning value, documented in
    docs/method.md, not pinned here) is a whole number of iterations that
    ends before the run does, so every run distils at full weight for part
    of its schedule."""
    from mmengine.config import Config

    import muse_det  # noqa: F401
    checked = 0
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        for hook in cfg.get('custom_hooks', []):
            if hook['type'] != 'MUSEHook':
                continue
            warmup = hook.get('warmup_iters', 0)
            assert isinstance(warmup, int) and warmup >= 0, (path, warmup)
            loop = cfg.get('train_cfg', {})
            if loop.get('type') == 'IterBasedTrainLoop':
                assert warmup < loop['max_iters'], (path, warmup)
            checked += 1
    assert checked >= 10


def test_muse_configs_are_a_few_lines_over_mmdet():
    """The whole MUSE change to an mmdet config is at most 10 lines."""
    for path in glob.glob(osp.join(ROOT, 'configs', 'muse', '*.py')):
        with open(path) as f:
            lines = [
                ln for ln in f.read().splitlines()
                if ln.strip() and not ln.lstrip().startswith('#')
            ]
        assert lines[0].startswith("_base_ = 'mmdet::"), path
        assert len(lines) - 1 <= 10, path


def test_model_index_lists_every_shipped_config():
    """model-index.yml imports metafiles that list each config once,
    with existing paths and results only where docs/benchmarks.md
    reports a figure."""
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    with open(osp.join(ROOT, 'docs', 'benchmarks.md')) as f:
        benchmarks = f.read()
    listed = []
    for metafile in index['Import']:
        with open(osp.join(ROOT, metafile)) as f:
            meta = yaml.safe_load(f)
        collections = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in collections
            assert osp.isfile(osp.join(ROOT, model['Config'])), model['Config']
            assert model['Name'] == osp.splitext(
                osp.basename(model['Config']))[0]
            for result in model.get('Results', []):
                for value in result['Metrics'].values():
                    # a figure of docs/benchmarks.md (mAP there as
                    # 0.856, here as 85.6)
                    assert (f'{value:.2f}' in benchmarks
                            or f'{value / 100:.3f}'
                            in benchmarks), (model['Name'], value)
            listed.append(osp.join(ROOT, model['Config']))
    assert sorted(listed) == CONFIGS


CLS_CONFIGS = sorted(
    glob.glob(
        osp.join(ROOT, 'configs', 'classification', '**', '*.py'),
        recursive=True))


def _base_and_added_lines(path):
    """(the ``_base_`` paths of a config file, its non-comment lines after
    ``_base_ = ...``)."""
    with open(path) as f:
        text = f.read()
    node = next(
        n for n in ast.parse(text).body if isinstance(n, ast.Assign)
        and getattr(n.targets[0], 'id', None) == '_base_')
    bases = ast.literal_eval(node.value)
    after = text.splitlines()[node.end_lineno:]
    added = [
        ln for ln in after if ln.strip() and not ln.lstrip().startswith('#')
    ]
    return [bases] if isinstance(bases, str) else bases, added


def test_every_classification_config_is_an_mmpretrain_config():
    """Each classification config inherits mmpretrain's configs (directly or
    through the config it changes by one key) and adds at most 10 lines."""
    assert CLS_CONFIGS and not glob.glob(
        osp.join(ROOT, 'configs', 'classification', '_base_'))
    for path in CLS_CONFIGS:
        chain, seen = [path], set()
        while chain:
            current = chain.pop()
            assert current not in seen, current
            seen.add(current)
            bases, added = _base_and_added_lines(current)
            if current == path and '/toy/' not in path:
                assert len(added) <= 10, (path, len(added))
            local = [b for b in bases if '::' not in b]
            if len(local) < len(bases):
                assert all(
                    b.startswith('mmpretrain::') for b in bases
                    if '::' in b), current
                break
            chain += [
                osp.normpath(osp.join(osp.dirname(current), b)) for b in local
            ]
        else:
            raise AssertionError(
                f'{path} does not inherit an mmpretrain:: config')


@pytest.mark.parametrize(
    'path', [p for p in CLS_CONFIGS if '/baselines/' not in p],
    ids=lambda p: osp.relpath(p, ROOT))
def test_classification_configs_use_mmpretrain_types(path):
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    model = cfg.model.get('architecture', (cfg.model.get('peers')
                                           or [cfg.model])[0])
    assert (model.type == 'ImageClassifier'
            and model.head.type == 'LinearClsHead')
    assert cfg.val_evaluator.get('metric',
                                 cfg.val_evaluator).type == 'Accuracy'


def test_package_config_builds_its_model(tmp_path):
    """A config inherited through ``muse_det::`` (its dicts carry
    ``_scope_='muse_det'``) builds, as the tools build it (a fresh process: the
    default scope is process-wide)."""
    cfg_file = tmp_path / 'mine.py'
    cfg_file.write_text("_base_ = 'muse_det::toy/muse_fcos_r18_toy_coco.py'\n")
    code = ('from muse_det.utils.launch import load_config\n'
            'from mmengine.registry import MODELS, init_default_scope\n'
            f'cfg = load_config({str(cfg_file)!r})\n'
            "init_default_scope(cfg.get('default_scope', 'mmdet'))\n"
            'model = MODELS.build(cfg.model)\n'
            'print(type(model).__name__, type(model.architecture).__name__)\n')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=str(tmp_path),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-2:] == ['MUSESelfDistiller', 'FCOS']


def test_readme_first_screen():
    """What it is, install, the config diff, results, cost, citation, in that
    order; one results row per setting with its config; the statistics live
    in docs/benchmarks.md, which has the section the table links to."""
    with open(osp.join(ROOT, 'README.md')) as f:
        text = f.read()
    headings = re.findall(r'^## (.+)$', text, re.M)
    assert headings[:5] == [
        'Install', 'Add MUSE to an mmdet config', 'Results', 'Cost', 'Citation'
    ]
    intro = text.split('\n## ', 1)[0].strip().splitlines()
    assert intro[0] == '# muse-det' and len([ln
                                             for ln in intro[1:] if ln]) <= 3
    results = text.split('## Results', 1)[1].split('\n## ', 1)[0]
    rows = [
        ln for ln in results.splitlines()
        if ln.startswith('| ') and not ln.startswith('| setting')
    ]
    assert len(rows) >= 5
    for row in rows:
        config = re.search(r'\]\((configs/[^)]+\.py)\)', row).group(1)
        assert osp.isfile(osp.join(ROOT, config)), row
    assert any('not measured yet' in row and 'coco' in row for row in rows)
    assert 't = ' not in text, 'statistics belong in docs/benchmarks.md'
    with open(osp.join(ROOT, 'docs', 'benchmarks.md')) as f:
        assert "\n## Summary: the README's results table\n" in f.read()
    assert osp.isfile(
        osp.join(ROOT, 'docs', 'images', 'information_curves_defaults.png'))


def test_detection_baseline_configs_change_only_the_loss():
    """Each detection baseline is MUSE's Faster R-CNN config with the loss
    dict replaced by the method's type and every MUSE option it takes (the
    same sampling) but the weight, which is each method's own recipe's;
    the configs build the loss they name."""
    from mmengine.config import Config

    from muse_det.models.losses import check_loss_cfg, loss_options
    muse = Config.fromfile(
        osp.join(ROOT, 'configs/muse/muse_faster-rcnn_r50_fpn_1x_coco.py'))
    paths = sorted(
        glob.glob(osp.join(ROOT, 'configs/muse/baselines/*_faster-rcnn*.py')))
    methods = [osp.basename(p).split('_')[0] for p in paths]
    assert sorted(methods) == ['at', 'cosine', 'crd', 'l2', 'nst', 'vid']
    for path, method in zip(paths, methods):
        cfg = Config.fromfile(path)
        takes = set(loss_options(method)) - {'loss_weight'}
        assert cfg.model.loss.to_dict() == dict(
            {k: v
             for k, v in muse.model.loss.items() if k in takes},
            type=method), path
        check_loss_cfg(cfg.model.loss.to_dict())
        cfg.model.loss = muse.model.loss
        assert cfg.model.to_dict() == muse.model.to_dict(), path
