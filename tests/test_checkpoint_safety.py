"""Malicious checkpoints are refused on every load path before their payload can run; what
muse-det saves needs nothing beyond torch's safe types.

Real files in tmp dirs, real MMEngine Runners.
"""
import os
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import load_checkpoint

from muse_det.utils.checkpoint_io import (SAFE_GLOBALS, UnsafeCheckpointError, atomic_save,
                                          safe_load)
from muse_det.utils.export import export_checkpoint
from test_resume import ToyModel, toy_runner, train_toy


class Payload:
    """Runs ``call(arg)`` when unpickled."""

    def __init__(self, call, arg):
        self.call, self.arg = call, arg

    def __reduce__(self):
        return self.call, (self.arg, )


def _payloads(marker):
    return {
        'posix.system': Payload(os.system, f'touch {marker}'),
        'builtins.exec': Payload(exec, f'open({str(marker)!r}, "w").close()'),
    }


def _load_paths(tmp_path):
    """Every way a checkpoint file gets loaded: name -> function(path)."""
    def runner(path, **kwargs):
        toy_runner(tmp_path / 'runner', max_iters=1, load_from=path, **kwargs).train()

    return {
        'safe_load': safe_load,
        'mmengine.runner.load_checkpoint': lambda path: load_checkpoint(ToyModel(), path),
        'Runner load_from': runner,
        'Runner resume': lambda path: runner(path, resume=True),
        'export_checkpoint': lambda path: export_checkpoint(path, str(tmp_path / 'out.pth')),
    }


@pytest.mark.parametrize('payload', ['posix.system', 'builtins.exec'])
@pytest.mark.parametrize('path_name', ['safe_load', 'mmengine.runner.load_checkpoint',
                                       'Runner load_from', 'Runner resume',
                                       'export_checkpoint'])
def test_payload_is_refused_and_never_runs(tmp_path, payload, path_name):
    marker = tmp_path / 'pwned'
    evil = str(tmp_path / 'evil.pth')
    torch.save({'meta': {'iter': 1}, 'state_dict': ToyModel().state_dict(),
                'message_hub': _payloads(marker)[payload]}, evil)
    assert payload in torch.serialization.get_unsafe_globals_in_checkpoint(evil)

    with pytest.raises(UnsafeCheckpointError) as info:
        _load_paths(tmp_path)[path_name](evil)
    message = str(info.value)
    assert message.startswith(f'refusing to load checkpoint {evil}: its pickle names {payload}')
    assert 'nothing from it was executed' in message and 'trust' in message
    assert 'weights_only=False' not in message  # torch's advice is not repeated
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no pickle trace
    assert not marker.exists()


def test_plain_mmengine_checkpoint_is_refused_with_a_hint(tmp_path):
    """Without muse_det's message-hub format, a HistoryBuffer pickles its statistics methods
    through builtins.getattr: refused, and the error says where such a file comes from."""
    legacy = str(tmp_path / 'legacy.pth')
    torch.save({'message_hub': {'log_scalars': {'loss': HistoryBuffer([1.0], [1])}}}, legacy)
    names = torch.serialization.get_unsafe_globals_in_checkpoint(legacy)
    assert 'builtins.getattr' in names
    with pytest.raises(UnsafeCheckpointError, match='saved by MMEngine without muse_det'):
        safe_load(legacy)


def test_allow_list_is_minimal():
    names = {f'{g.__module__}.{g.__qualname__}' for g in SAFE_GLOBALS}
    assert not names & {'builtins.getattr', 'builtins.eval', 'builtins.exec'}
    assert not [n for n in names if n.split('.')[0] in ('os', 'posix', 'sys', 'subprocess')]


def test_runner_checkpoints_need_no_allow_listed_globals(tmp_path):
    train_toy(tmp_path, max_iters=2)
    ckpt = str(tmp_path / 'iter_2.pth')
    assert torch.serialization.get_unsafe_globals_in_checkpoint(ckpt) == []
    hub = safe_load(ckpt)['message_hub']
    assert hub['log_scalars']['train/loss']['__plain__'] == 'HistoryBuffer'


def test_message_hub_state_survives_a_weights_only_round_trip(tmp_path):
    hub = MessageHub.get_instance('round_trip_source')
    for value in (0.5, 0.25, 0.125):
        hub.update_scalar('train/loss', value)
    hub.update_info('eta', np.float64(3.5))
    hub.update_info('table', np.arange(6, dtype=np.int16).reshape(2, 3))
    hub.update_info('mixed', [np.int64(7), {'x': np.float32(1.5)}, 'text'])
    path = str(tmp_path / 'hub.pth')
    atomic_save({'message_hub': hub.state_dict()}, path)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []

    restored = MessageHub.get_instance('round_trip_target')
    restored.load_state_dict(safe_load(path)['message_hub'])
    buffer = restored.get_scalar('train/loss')
    assert isinstance(buffer, HistoryBuffer) and buffer.max_length == 1000000
    np.testing.assert_array_equal(buffer.data[0], hub.get_scalar('train/loss').data[0])
    assert buffer.mean() == pytest.approx(0.875 / 3)
    eta, table = restored.get_info('eta'), restored.get_info('table')
    assert type(eta) is np.float64 and eta == 3.5
    assert table.dtype == np.int16 and table.tolist() == [[0, 1, 2], [3, 4, 5]]
    mixed = restored.get_info('mixed')
    assert type(mixed[0]) is np.int64 and type(mixed[1]['x']) is np.float32
    assert mixed[2] == 'text'
    # mmengine's own form (HistoryBuffer objects, e.g. a MessageHub passed in) still loads
    restored.load_state_dict(OrderedDict(log_scalars=OrderedDict(l=HistoryBuffer([1.], [1])),
                                         runtime_info=OrderedDict(), resumed_keys={'l': True}))
    assert restored.get_scalar('l').current() == 1.
