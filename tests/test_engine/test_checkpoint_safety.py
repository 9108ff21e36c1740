"""Malicious checkpoints are refused on every load path before their payload
can run; what muse-det saves needs nothing beyond torch's safe types; the
training state stock MMEngine pickles is read without running anything from the
file.

Real files in tmp dirs, real MMEngine Runners.
"""
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import load_checkpoint
from test_resume import ToyModel, toy_runner, train_toy

from muse_det.checkpoint import (MMENGINE_STATE_GLOBALS, NAMED_ALLOW_LIST,
                                 MUSESafeCheckpointHook, UnsafeCheckpointError,
                                 allow_list_entries, allowed_globals,
                                 atomic_save, history_buffer_statistic,
                                 safe_load, unsafe_globals_in)
from muse_det.models.distillers.export import export_checkpoint


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
        toy_runner(
            tmp_path / 'runner', max_iters=1, load_from=path,
            **kwargs).train()

    return {
        'safe_load':
        safe_load,
        'MUSESafeCheckpointRunner load_from':
        runner,
        'MUSESafeCheckpointRunner resume':
        lambda path: runner(path, resume=True),
        'export_checkpoint':
        lambda path: export_checkpoint(path, str(tmp_path / 'out.pth')),
    }


def _evil_checkpoint(tmp_path, payload):
    marker = tmp_path / 'pwned'
    evil = str(tmp_path / 'evil.pth')
    torch.save(
        {
            'meta': {
                'iter': 1
            },
            'state_dict': ToyModel().state_dict(),
            'message_hub': _payloads(marker)[payload]
        }, evil)
    assert payload in unsafe_globals_in(evil)
    return evil, marker


@pytest.mark.skipif(
    not NAMED_ALLOW_LIST,
    reason='torch < 2.6 loads with weights_only=False by default, so '
    "MMEngine's own loader would run the payload; muse-det's loaders pass "
    'weights_only=True on every torch (tested below)')
@pytest.mark.parametrize('payload', ['posix.system', 'builtins.exec'])
def test_payload_is_refused_by_mmengine_own_loader(tmp_path, payload):
    """MMEngine's own ``load_checkpoint`` (not muse-det's, left as it is) reads
    with torch's default ``weights_only=True``: refused too, nothing run."""
    evil, marker = _evil_checkpoint(tmp_path, payload)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(ToyModel(), evil)
    assert not marker.exists()


@pytest.mark.parametrize('payload', ['posix.system', 'builtins.exec'])
@pytest.mark.parametrize('path_name', [
    'safe_load', 'MUSESafeCheckpointRunner load_from',
    'MUSESafeCheckpointRunner resume', 'export_checkpoint'
])
def test_payload_is_refused_and_never_runs(tmp_path, payload, path_name):
    evil, marker = _evil_checkpoint(tmp_path, payload)
    with pytest.raises(UnsafeCheckpointError) as info:
        _load_paths(tmp_path)[path_name](evil)
    message = str(info.value)
    assert message.startswith(
        f'refusing to load checkpoint {evil}: its pickle names {payload}')
    assert 'nothing from it was executed' in message and 'trust' in message
    assert 'weights_only=False' not in message  # torch's advice: not repeated
    # no pickle trace
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not marker.exists()


def _stock_checkpoint(path):
    torch.save(
        {
            'message_hub': {
                'log_scalars': {
                    'loss': HistoryBuffer([1.0, 3.0], [1, 1])
                },
                'runtime_info': {
                    'eta': np.float64(2.5)
                }
            }
        }, path)
    return path


@pytest.mark.parametrize(
    'named', [True, False], ids=['torch>=2.6', 'torch<2.6'])
def test_allow_list_in_the_form_of_each_torch(tmp_path, named):
    """The one torch-dependent step, both sides on the running torch: the
    allow-list as ``(obj, name)`` pairs (torch >= 2.6) or as objects under
    their pickled names (torch 2.4, 2.5) reads the same stock message hub
    with ``weights_only=True``, and is undone after the block."""
    if named and not NAMED_ALLOW_LIST:
        pytest.skip('(obj, name) allow-list entries need torch >= 2.6')
    stock = _stock_checkpoint(str(tmp_path / 'stock.pth'))
    entries = allow_list_entries(MMENGINE_STATE_GLOBALS, named)
    keys = {
        e[1] if isinstance(e, tuple) else f'{e.__module__}.{e.__name__}'
        for e in entries
    }
    # every name a pickle may use stays reachable in either form
    assert {
        'builtins.getattr', 'numpy.core.multiarray._reconstruct',
        'numpy._core.multiarray._reconstruct',
        'mmengine.logging.history_buffer.HistoryBuffer'
    } <= keys
    if not named:
        assert not any(isinstance(e, tuple) for e in entries)
        assert getattr not in entries
    before = list(torch.serialization.get_safe_globals())
    table = dict(HistoryBuffer._statistics_methods)
    try:
        with allowed_globals(MMENGINE_STATE_GLOBALS, named):
            hub = torch.load(stock, weights_only=True)['message_hub']
    finally:
        HistoryBuffer._statistics_methods.clear()
        HistoryBuffer._statistics_methods.update(table)
    assert hub['log_scalars']['loss'].mean() == 2.0
    assert type(hub['runtime_info']['eta']) is np.float64
    # torch keeps its allow-list in a set: the order it lists is the hash
    # order of the entries (addresses), so compare contents, not order
    after = list(torch.serialization.get_safe_globals())
    assert len(after) == len(before) and set(after) == set(before)
    # without the block the same file is refused
    with pytest.raises(pickle.UnpicklingError):
        torch.load(stock, weights_only=True)
    # the globals the file names, read without unpickling, in either form
    names = unsafe_globals_in(stock, named)
    assert 'builtins.getattr' in names
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in names
    if hasattr(torch.serialization, 'get_unsafe_globals_in_checkpoint'):
        assert names == sorted(
            set(torch.serialization.get_unsafe_globals_in_checkpoint(stock)))


def test_stock_mmengine_message_hub_loads_without_widening_the_allow_list(
        tmp_path):
    """A HistoryBuffer pickles its statistics methods through builtins.getattr
    and its history as numpy arrays: read with the getattr stand-in, the
    allow-list and HistoryBuffer's class-wide table unchanged afterwards."""
    stock = str(tmp_path / 'stock.pth')
    buffer = HistoryBuffer([1.0, 3.0], [1, 1])
    torch.save(
        {
            'message_hub': {
                'log_scalars': {
                    'loss': buffer
                },
                'runtime_info': {
                    'eta': np.float64(2.5)
                }
            }
        }, stock)
    names = unsafe_globals_in(stock)
    assert 'builtins.getattr' in names and any(
        n.startswith('numpy') for n in names)
    allowed_before = set(torch.serialization.get_safe_globals())
    table_before = dict(HistoryBuffer._statistics_methods)

    hub = safe_load(stock)['message_hub']
    loaded = hub['log_scalars']['loss']
    assert type(loaded) is HistoryBuffer and loaded.mean(
    ) == 2.0 and loaded.current() == 3.0
    assert type(hub['runtime_info']['eta']) is np.float64
    assert set(torch.serialization.get_safe_globals()) == allowed_before
    assert HistoryBuffer._statistics_methods == table_before


class Getattr:
    """Unpickles as ``builtins.getattr(owner, name)``."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


@pytest.mark.parametrize('owner,name', [(HistoryBuffer, 'register_statistics'),
                                        (HistoryBuffer, '__init__'),
                                        (np.ndarray, 'tofile'),
                                        (OrderedDict, 'fromkeys')])
def test_getattr_beyond_history_buffer_statistics_is_refused(
        tmp_path, owner, name):
    evil = str(tmp_path / 'getattr.pth')
    torch.save(
        {
            'state_dict': ToyModel().state_dict(),
            'x': Getattr(owner, name)
        }, evil)
    with pytest.raises(
            UnsafeCheckpointError,
            match='is not a HistoryBuffer statistic') as info:
        safe_load(evil)
    assert str(info.value).startswith(f'refusing to load checkpoint {evil}')
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_statistic(owner, name)


def test_allow_list_is_minimal():
    names = {
        entry[1] if isinstance(entry, tuple) else
        f'{entry.__module__}.{entry.__qualname__}'
        for entry in MMENGINE_STATE_GLOBALS
    }
    objects = {
        entry[0] if isinstance(entry, tuple) else entry
        for entry in MMENGINE_STATE_GLOBALS
    }
    assert not names & {'builtins.eval', 'builtins.exec'}
    assert not objects & {getattr, eval, exec, setattr, __import__}
    renamed = {
        name: obj
        for obj, name in (e for e in MMENGINE_STATE_GLOBALS
                          if isinstance(e, tuple))
    }
    assert renamed['builtins.getattr'] is history_buffer_statistic
    assert not [
        n for n in names
        if n.split('.')[0] in ('os', 'posix', 'sys', 'subprocess')
    ]
    # nothing is allowed process-wide by importing muse-det
    assert not set(
        torch.serialization.get_safe_globals()) & set(MMENGINE_STATE_GLOBALS)


def test_runner_checkpoints_need_no_allow_listed_globals(tmp_path):
    train_toy(tmp_path, max_iters=2)
    ckpt = str(tmp_path / 'iter_2.pth')
    assert unsafe_globals_in(ckpt) == []
    hub = safe_load(ckpt)['message_hub']
    assert hub['log_scalars']['train/loss']['__plain__'] == 'HistoryBuffer'


def test_message_hub_state_survives_a_weights_only_round_trip(tmp_path):
    """MUSESafeCheckpointHook stores the message hub as plain tensors and
    rebuilds
    it on load."""
    hook = MUSESafeCheckpointHook()
    hub = MessageHub.get_instance('round_trip_source')
    for value in (0.5, 0.25, 0.125):
        hub.update_scalar('train/loss', value)
    hub.update_info('eta', np.float64(3.5))
    hub.update_info('table', np.arange(6, dtype=np.int16).reshape(2, 3))
    hub.update_info('mixed', [np.int64(7), {'x': np.float32(1.5)}, 'text'])
    path = str(tmp_path / 'hub.pth')
    checkpoint = {'message_hub': hub.state_dict()}
    hook.before_save_checkpoint(None, checkpoint)
    atomic_save(checkpoint, path)
    assert unsafe_globals_in(path) == []

    restored = MessageHub.get_instance('round_trip_target')
    checkpoint = safe_load(path)
    hook.after_load_checkpoint(None, checkpoint)
    restored.load_state_dict(checkpoint['message_hub'])
    buffer = restored.get_scalar('train/loss')
    assert isinstance(buffer, HistoryBuffer) and buffer.max_length == 1000000
    np.testing.assert_array_equal(buffer.data[0],
                                  hub.get_scalar('train/loss').data[0])
    assert buffer.mean() == pytest.approx(0.875 / 3)
    eta, table = restored.get_info('eta'), restored.get_info('table')
    assert type(eta) is np.float64 and eta == 3.5
    assert table.dtype == np.int16 and table.tolist() == [[0, 1, 2], [3, 4, 5]]
    mixed = restored.get_info('mixed')
    assert type(mixed[0]) is np.int64 and type(mixed[1]['x']) is np.float32
    assert mixed[2] == 'text'
    # mmengine's own form (HistoryBuffer objects, e.g. a stock checkpoint)
    # passes unchanged
    stock = OrderedDict(
        log_scalars=OrderedDict(l=HistoryBuffer([1.], [1])),
        runtime_info=OrderedDict(),
        resumed_keys={'l': True})
    checkpoint = {'message_hub': stock}
    hook.after_load_checkpoint(None, checkpoint)
    restored.load_state_dict(checkpoint['message_hub'])
    assert restored.get_scalar('l').current() == 1.
