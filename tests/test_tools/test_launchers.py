"""tools/dist_*.sh and tools/slurm_*.sh: usage without their arguments, and
paths read relative to the caller's directory, as mmdet's launchers do.

torchrun and srun themselves are replaced by a recorder of the command line
and working directory they were given (a real two-process run of
dist_train.sh is tests/test_utils/test_ddp.py)."""
import os
import os.path as osp
import subprocess

import pytest
from muse_test_utils import ROOT

LAUNCHERS = {
    'dist_train.sh': ['cfg.py', '2'],
    'dist_test.sh': ['cfg.py', 'ckpt.pth', '2'],
    'slurm_train.sh': ['part', 'job', 'cfg.py', 'work'],
    'slurm_test.sh': ['part', 'job', 'cfg.py', 'ckpt.pth'],
}

RECORDER = """#!/usr/bin/env bash
{{ echo "cwd=$PWD"; echo "pythonpath=$PYTHONPATH"
   printf 'arg=%s\\n' "$@"; }} > {out}
"""


def launch(name, args, cwd, tmp_path):
    """Run tools/<name> from ``cwd`` with a recorder standing in for python
    (torchrun) and srun; the exit status, stderr and the recorded lines."""
    out = tmp_path / 'recorded.txt'
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    for tool in ('fake-python', 'srun'):
        path = bin_dir / tool
        path.write_text(RECORDER.format(out=out))
        path.chmod(0o755)
    env = dict(
        os.environ,
        PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
        PYTHON=str(bin_dir / 'fake-python'))
    env.pop('PYTHONPATH', None)
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', name), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60)
    lines = out.read_text().splitlines() if out.exists() else []
    return proc, lines


@pytest.mark.parametrize('name', sorted(LAUNCHERS))
def test_usage_when_arguments_are_missing(name, tmp_path):
    proc, lines = launch(name, [], tmp_path, tmp_path)
    assert proc.returncode == 2 and not lines
    assert 'unbound variable' not in proc.stderr
    assert f'bash tools/{name}' in proc.stderr
    assert proc.stderr.rstrip().splitlines()[-1].startswith('error: ')
    proc, _ = launch(name, ['--help'], tmp_path, tmp_path)
    assert proc.returncode == 0 and f'bash tools/{name}' in proc.stdout


@pytest.mark.parametrize('name', sorted(LAUNCHERS))
def test_paths_stay_relative_to_the_caller(name, tmp_path):
    """The launcher does not change directory: the relative config (and work
    dir, checkpoint) reach train.py/test.py as given, from the caller's
    directory; the repository is put on PYTHONPATH and the tool is named by
    its absolute path."""
    caller = tmp_path / 'project'
    caller.mkdir()
    proc, lines = launch(name, LAUNCHERS[name] + ['--cfg-options', 'a=1'],
                         caller, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert lines[0] == f'cwd={caller}'
    assert osp.realpath(lines[1].split('=', 1)[1]) == osp.realpath(ROOT)
    args = [line.split('=', 1)[1] for line in lines[2:]]
    tool = 'train.py' if 'train' in name else 'test.py'
    script = next(a for a in args if a.endswith(tool))
    assert osp.isabs(script) and osp.samefile(script,
                                              osp.join(ROOT, 'tools', tool))
    assert 'cfg.py' in args and args[-2:] == ['--cfg-options', 'a=1']
    if 'ckpt.pth' in LAUNCHERS[name]:
        assert 'ckpt.pth' in args
    if name == 'slurm_train.sh':
        assert '--work-dir=work' in args
    if name.startswith('dist_'):
        assert args[:2] == ['-m', 'torch.distributed.run']
        assert '--nproc_per_node=2' in args
