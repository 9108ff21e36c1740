"""MMEngine's message hub state in a form ``torch.load(weights_only=True)`` can
read.

``Runner.save_checkpoint`` stores ``MessageHub.state_dict()``:
``HistoryBuffer`` objects (numpy arrays, and through
``HistoryBuffer.__getstate__`` the class-wide ``_statistics_methods`` dict of
functions ``HistoryBuffer.min/max/current/mean``, which protocol-2 pickles as
``builtins.getattr(HistoryBuffer, 'min')``) and numpy scalars in the runtime
info (``eta``). Reading those back would need ``getattr``, ``HistoryBuffer``
and numpy on the allow-list.

Instead, :func:`to_plain` turns that state into tensors and plain containers
(tagged dicts ``{'__plain__': kind, ...}``) and :func:`from_plain` rebuilds the
``HistoryBuffer``s and numpy values;
:class:`~muse_det.checkpoint.MUSESafeCheckpointHook` applies them to the
checkpoints it saves and loads, so those hold nothing besides torch's own
types. A ``HistoryBuffer`` keeps its history, counts and ``max_length``; its
statistics methods are class-level and registered at import by whoever defines
them, so they are not stored.
"""
from collections import OrderedDict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

TAG = '__plain__'


def _array_to_tensor(value):
    try:
        return torch.from_numpy(np.array(value, order='C'))
    # a dtype torch has no tensor for (object, str...): left as it is
    except TypeError:
        return None


def _value_to_plain(value):
    """numpy arrays and scalars, also inside lists, tuples and dicts, as tagged
    tensors."""
    if isinstance(value, (np.ndarray, np.generic)):
        data = _array_to_tensor(value)
        kind = 'ndarray' if isinstance(value, np.ndarray) else 'numpy_scalar'
        return value if data is None else {TAG: kind, 'data': data}
    if type(value) in (list, tuple):
        return type(value)(_value_to_plain(v) for v in value)
    if type(value) in (dict, OrderedDict):
        return type(value)((k, _value_to_plain(v)) for k, v in value.items())
    return value


def _value_from_plain(value):
    if type(value) in (list, tuple):
        return type(value)(_value_from_plain(v) for v in value)
    if type(value) in (dict, OrderedDict):
        kind = value.get(TAG)
        if kind == 'ndarray':
            return value['data'].cpu().numpy()
        if kind == 'numpy_scalar':
            return value['data'].cpu().numpy()[()]
        # resume maps tensors to the training device
        if kind == 'HistoryBuffer':
            return HistoryBuffer(value['log_history'].cpu().numpy(),
                                 value['count_history'].cpu().numpy(),
                                 value['max_length'])
        return type(value)((k, _value_from_plain(v)) for k, v in value.items())
    return value


def _buffer_to_plain(buffer):
    if not isinstance(buffer, HistoryBuffer):
        return _value_to_plain(buffer)
    log, count = (
        _array_to_tensor(a)
        for a in (buffer._log_history, buffer._count_history))
    if log is None or count is None:
        return buffer
    return {
        TAG: 'HistoryBuffer',
        'log_history': log,
        'count_history': count,
        'max_length': buffer.max_length
    }


def to_plain(state: dict) -> dict:
    """``MessageHub.state_dict()`` output -> tensors and plain containers
    only.

    A ``HistoryBuffer`` becomes ``{'__plain__': 'HistoryBuffer',
    'log_history': Tensor, 'count_history': Tensor, 'max_length': int}``; a
    numpy array or scalar in the runtime info (also inside lists, tuples and
    dicts) becomes ``{'__plain__': 'ndarray' | 'numpy_scalar', 'data':
    Tensor}``. Values of a dtype torch has no tensor for (object, str) are
    left as they are.

    Args:
        state (dict): ``MessageHub.state_dict()``, with the keys
            ``log_scalars`` and ``runtime_info``.

    Returns:
        dict: a new state dict; ``state`` itself is not changed.
    """
    state = dict(state)
    state['log_scalars'] = OrderedDict(
        (k, _buffer_to_plain(v)) for k, v in state['log_scalars'].items())
    state['runtime_info'] = _value_to_plain(state['runtime_info'])
    return state


def from_plain(state: dict) -> dict:
    """Inverse of :func:`to_plain`; state in MMEngine's own form passes
    unchanged.

    Args:
        state (dict): a message hub state, from :func:`to_plain` or in
            MMEngine's own form.

    Returns:
        dict: a new state dict for ``MessageHub.load_state_dict``, with the
        ``HistoryBuffer``s and numpy values rebuilt (on the CPU).
    """
    state = dict(state)
    for key in ('log_scalars', 'runtime_info'):
        if key in state:
            state[key] = _value_from_plain(state[key])
    return state
