"""``import muse_det`` registers types and changes nothing else in MMEngine or
torch.

A fresh interpreter takes references to MMEngine's checkpoint loaders, file
backends, ``CheckpointHook``, ``MessageHub``, the config package table and
torch's allow-list, imports muse_det, and compares: the same objects, nothing
added but muse-det's own backend name.
"""
import json
import subprocess
import sys

from muse_test_utils import ROOT

SCRIPT = r'''
import json, sys
import torch
from mmengine.config import utils as config_utils
from mmengine.fileio import LocalBackend
from mmengine.fileio.backends import registry_utils
from mmengine.hooks import CheckpointHook, checkpoint_hook
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import checkpoint as runner_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from mmdet.registry import MODELS
# what muse_det imports from its dependencies, imported first: their own side
# effects (torch registers safe globals when torchvision/mmpretrain pull in
# torch._dynamo) are not muse_det's
import mmdet.datasets, mmdet.evaluation, mmdet.models  # noqa: E401,F401
try:
    import mmpretrain.datasets  # noqa: F401
    import mmpretrain.evaluation  # noqa: F401
    import mmpretrain.models  # noqa: F401
except ImportError:
    pass

assert 'muse_det' not in sys.modules


def tables():
    return {
        'checkpoint loaders': dict(CheckpointLoader._schemes),
        'file backends': dict(registry_utils.backends),
        'file backend prefixes': dict(registry_utils.prefix_to_backends),
        'CheckpointHook': dict(vars(CheckpointHook)),
        'checkpoint_hook module': dict(vars(checkpoint_hook)),
        'MessageHub': dict(vars(MessageHub)),
        'HistoryBuffer statistics': dict(HistoryBuffer._statistics_methods),
        'MODULE2PACKAGE': dict(config_utils.MODULE2PACKAGE),
        'torch safe globals':
        {repr(g): g
         for g in torch.serialization.get_safe_globals()},
    }


before = tables()
import muse_det  # noqa: E402
after = tables()
report = {}
for table, old in before.items():
    new = after[table]
    report[table] = dict(
        added=sorted(set(new) - set(old)),
        removed=sorted(set(old) - set(new)),
        replaced=sorted(k for k in set(old) & set(new)
                        if new[k] is not old[k]))
# identity with fresh references to MMEngine's own objects
fresh = [CheckpointLoader._schemes[''] is runner_checkpoint.load_from_local,
         registry_utils.backends['local'] is LocalBackend,
         registry_utils.prefix_to_backends[''] is LocalBackend,
         'open' not in vars(checkpoint_hook),
         CheckpointHook._save_checkpoint_with_step.__module__ ==
         checkpoint_hook.__name__,
         MessageHub.state_dict.__module__ == 'mmengine.logging.message_hub',
         MessageHub.load_state_dict.__module__ ==
         'mmengine.logging.message_hub']
registered = 'MUSESelfDistiller' in MODELS
print(json.dumps(dict(report=report, fresh=fresh, registered=registered)))
'''


def test_import_muse_det_leaves_mmengine_and_torch_untouched():
    proc = subprocess.run([sys.executable, '-c', SCRIPT],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result['registered']  # importing did register
    assert all(result['fresh']), result['fresh']
    for table, change in result['report'].items():
        assert change['removed'] == [] and change['replaced'] == [], (table,
                                                                      change)
        # the only addition: muse-det's own backend name, selected per use by
        # backend_args
        own = ['muse_atomic_local'] if table == 'file backends' else []
        assert change['added'] == own, \
            (table, change)
