"""Which errors the tools shorten to one line: only muse-det's own
(:class:`muse_det.errors.MuseDetError`, or a ``ValueError`` muse-det's code
raised). Any other exception, a user's own transform's ``ValueError``
included, keeps its full traceback."""
import os
import subprocess
import sys

import pytest
from mmengine.registry import TRANSFORMS as ENGINE_TRANSFORMS
from muse_test_utils import ROOT, toy_config_text

from muse_det.errors import MissingFileError, MuseDetError, is_muse_det_error
from muse_det.registry import HOOKS

USER_TRANSFORM = '''
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class UserCrop(BaseTransform):

    def transform(self, results):
        raise ValueError('crop size larger than the image (user transform)')
'''


def train(cfg, cwd):
    # the user's modules are found as mmdet users find theirs: on PYTHONPATH
    path = os.pathsep.join(
        p for p in (str(cwd), os.environ.get('PYTHONPATH')) if p)
    return subprocess.run([sys.executable, f'{ROOT}/tools/train.py',
                           str(cfg)],
                          cwd=cwd,
                          capture_output=True,
                          text=True,
                          timeout=600,
                          env=dict(os.environ, PYTHONPATH=path))


def test_user_transform_error_keeps_its_traceback(toy_coco, tmp_path):
    """A ValueError from a user's own transform, raised while the runner
    loads data, ends the run with the full traceback down to the user's
    line, not a one-line message."""
    (tmp_path / 'user_transforms.py').write_text(USER_TRANSFORM)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        toy_config_text(
            'configs/toy/muse_fcos_r18_toy_coco.py', toy_coco,
            "custom_imports = dict(imports=['muse_det', 'user_transforms'], "
            'allow_failed_imports=False)\n'
            "train_pipeline = [dict(type='LoadImageFromFile'), "
            "dict(type='UserCrop')]\n"
            'train_dataloader = dict(batch_size=2, num_workers=0, '
            'persistent_workers=False, dataset=dict(data_root=data_root, '
            'indices=4, pipeline=train_pipeline))\n'
            'train_cfg = dict(max_iters=1, val_interval=1000)\n'))
    proc = train(cfg, cwd=tmp_path)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert 'Traceback' in proc.stderr, proc.stderr[-2000:]
    assert 'user_transforms.py' in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr.rstrip().endswith(
        'ValueError: crop size larger than the image (user transform)'), (
            proc.stderr[-2000:])
    assert 'MUSE_DET_DEBUG' not in proc.stderr


def test_muse_det_error_is_one_line(tmp_path):
    """muse-det's own error in the same tool: one line, no traceback."""
    proc = train(tmp_path / 'missing.py', cwd=tmp_path)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr, proc.stderr[-2000:]
    # the last two lines (older PyTorch and MMEngine print warnings first)
    error, hint = proc.stderr.rstrip().splitlines()[-2:]
    assert error.startswith('error: config file not found: '), proc.stderr
    assert hint == '(set MUSE_DET_DEBUG=1 to see the full traceback)'


def test_classification_of_exceptions():
    """The rule itself, on real exceptions: the project type, a ValueError
    raised in muse-det re-raised by MMEngine's registry, and others'."""
    assert issubclass(MuseDetError, ValueError)
    assert issubclass(MissingFileError, FileNotFoundError)
    # MMEngine's build_from_cfg re-raises `type(e)('class ... : e')`; the
    # re-raised error still counts as muse-det's
    with pytest.raises(ValueError) as e:
        HOOKS.build(dict(type='MUSEHook', warmup_iters=-1))
    assert 'warmup_iters must be a non-negative integer' in str(e.value)
    assert is_muse_det_error(e.value)

    @ENGINE_TRANSFORMS.register_module(force=True)
    class _UserThing:

        def __init__(self):
            raise ValueError('a user check')

    with pytest.raises(ValueError) as e:
        ENGINE_TRANSFORMS.build(dict(type='_UserThing'))
    assert not is_muse_det_error(e.value)
    for other in (KeyError('x'), RuntimeError('x'), FileNotFoundError('x')):
        assert not is_muse_det_error(other)
    try:
        raise MuseDetError('bad key')
    except MuseDetError as err:
        assert is_muse_det_error(err)
