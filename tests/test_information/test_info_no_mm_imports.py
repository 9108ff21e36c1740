"""muse_det.information must work with PyTorch alone: no
mmengine/mmcv/mmdet/mmpretrain."""
import ast
import pathlib
import subprocess
import sys

import muse_det.information

MM = ('mmengine', 'mmcv', 'mmdet', 'mmpretrain')
PACKAGE_DIR = pathlib.Path(muse_det.information.__file__).parent
REPO = PACKAGE_DIR.parents[1]

SCRIPT = f"""
import importlib.abc, sys
BLOCKED = {MM!r}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError('blocked for this test: ' + name)
        return None

sys.meta_path.insert(0, Block())
import torch
import muse_det.information as info
loss = info.MUSELoss(8, 16, num_samples=8)
out = loss(torch.randn(2, 8, 8, 8), torch.randn(2, 16, 4, 4))
assert torch.isfinite(out['loss'])
leaked = [m for m in sys.modules if m.split('.')[0] in BLOCKED]
assert not leaked, leaked
print('ok')
"""


def test_imports_and_runs_with_mm_packages_blocked():
    result = subprocess.run([sys.executable, '-c', SCRIPT],
                            cwd=REPO,
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'ok'


def test_sources_import_no_mm_package():
    offenders = []
    for path in PACKAGE_DIR.rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or '']
            else:
                continue
            offenders += [
                f'{path.name}: {n}' for n in names if n.split('.')[0] in MM
            ]
    assert not offenders
