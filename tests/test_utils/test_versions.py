"""The versions muse-det supports: stated as ranges for pip (no torch, no
pins), the same ranges checked at import, with one line naming the range for
an unsupported mmcv/mmdet/mmengine."""
import os.path as osp
import subprocess
import sys

import pytest
from muse_test_utils import ROOT

from muse_det.version import (SUPPORTED_VERSIONS, check_versions,
                              installed_versions)


def requirements(name):
    with open(osp.join(ROOT, 'requirements', name)) as f:
        return [
            ln.split('#')[0].strip() for ln in f if ln.split('#')[0].strip()
        ]


def test_package_requirements_are_ranges_without_torch():
    """What `pip install muse-det[cls]` asks for leaves an environment's torch
    alone and pins nothing; the ranges are the ones checked at import."""
    stated = requirements('runtime.txt') + requirements(
        'mminstall.txt') + requirements('cls.txt')
    assert not [r for r in stated if r.startswith(('torch', 'torchvision'))]
    assert not [r for r in stated if '==' in r], stated
    ranges = {
        r.split('>=')[0]: tuple(r.split('>=')[1].split(',<'))
        for r in stated if r.startswith('mm')
    }
    assert ranges == SUPPORTED_VERSIONS


def test_constraints_pin_the_reference_stack_within_the_ranges():
    pins = dict(
        r.replace('===', '==').split('==')
        for r in requirements('constraints.txt'))
    assert {'torch', 'torchvision'} < set(pins)
    check_versions({name: pins[name] for name in SUPPORTED_VERSIONS})


def test_the_installed_stack_is_supported():
    found = installed_versions()
    assert {'mmengine', 'mmcv', 'mmdet'} <= set(found)
    check_versions(found)


@pytest.mark.parametrize('name,version', [('mmcv', '2.2.0'), ('mmcv', '2.0.1'),
                                          ('mmdet', '3.2.0'),
                                          ('mmengine', '1.0.0'),
                                          ('mmpretrain', '1.1.0')])
def test_unsupported_version_is_one_line_naming_the_range(name, version):
    low, high = SUPPORTED_VERSIONS[name]
    with pytest.raises(ImportError) as e:
        check_versions({name: version})
    message = str(e.value)
    assert '\n' not in message
    assert f'{name}=={version} is installed' in message
    assert f'{name}>={low},<{high}' in message


def test_import_refuses_an_unsupported_mmcv():
    """``import muse_det`` with an mmcv reporting 2.2.0 (mmdet 3.3 refuses it
    too, so mmcv's version is changed after mmdet is imported)."""
    code = ('import mmdet, mmcv\nmmcv.__version__ = "2.2.0"\n'
            'import muse_det\n')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('ImportError: muse-det ') and (
        'supports mmcv>=2.1.0,<2.2.0, but mmcv==2.2.0 is installed') in last
