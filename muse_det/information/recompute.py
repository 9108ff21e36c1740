"""Activation recomputation that is exact for modules with state: the
recomputation sees the buffers the first forward saw."""
from typing import Any, Callable, Dict

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint


def _copy_buffers(module: nn.Module) -> Dict[str, Tensor]:
    return {name: b.clone() for name, b in module.named_buffers()}


@torch.no_grad()
def _load_buffers(module: nn.Module, values: Dict[str, Tensor]) -> None:
    # only the buffers that differ: an in-place write bumps a tensor's
    # version, and buffers the graph saved outside the recomputed part (a
    # shared target adapter's BatchNorm) must keep theirs for backward
    for name, b in module.named_buffers():
        if not torch.equal(b, values[name]):
            b.copy_(values[name])


class _BufferReplay:
    """The two contexts ``checkpoint``'s ``context_fn`` returns for one call.

    The first forward records ``module``'s buffers as it finds them; every
    recomputation (one per backward pass through the call) starts from that
    record and puts back the buffers of the moment when it ends. So modules
    that update state in training mode (BatchNorm's running statistics, an
    estimator's moving average) compute in the recomputation exactly what
    they computed the first time, and update their state once.
    """

    def __init__(self, module: nn.Module):
        self.module = module
        self.first_seen = None

    def contexts(self):
        """``(first-forward context, recomputation context)``, each an object
        that can be entered again."""
        return _Record(self), _Replay(self)


class _Record:

    def __init__(self, replay: _BufferReplay):
        self.replay = replay

    def __enter__(self):
        self.replay.first_seen = _copy_buffers(self.replay.module)

    def __exit__(self, *exc):
        return False


class _Replay:

    def __init__(self, replay: _BufferReplay):
        self.replay = replay
        self.now = None

    def __enter__(self):
        self.now = _copy_buffers(self.replay.module)
        _load_buffers(self.replay.module, self.replay.first_seen)

    def __exit__(self, *exc):
        _load_buffers(self.replay.module, self.now)
        return False


def check_recomputable(module: nn.Module, owner: str) -> None:
    """Raise if recomputing ``module`` in backward would run collectives.

    Args:
        module (nn.Module): what will be recomputed.
        owner (str): the option's owner, for the message.
    """
    synced = [
        name for name, m in module.named_modules()
        if isinstance(m, nn.SyncBatchNorm)
    ]
    if synced:
        raise ValueError(
            f'{owner}: with_cp=True would recompute SyncBatchNorm layers '
            f'{synced} inside backward, where their all-reduce would run '
            "beside DDP's own; set with_cp=False, or keep the model's "
            'sync_bn off for the distiller\'s adapters')


def recomputed(fn: Callable[..., Any], module: nn.Module, *args) -> Any:
    """``fn(*args)`` with its activations recomputed in backward.

    Non-reentrant ``torch.utils.checkpoint``; the recomputation runs from the
    buffers of ``module`` that the first forward saw (:class:`_BufferReplay`),
    so the loss, every gradient and the buffers after the step equal those of
    a plain call, whatever state ``module`` updates in training.

    Args:
        fn (Callable): the computation; reads and updates only ``module``'s
            state.
        module (nn.Module): the module whose buffers ``fn`` reads or updates.
        *args: ``fn``'s inputs (tensors are kept for backward).

    Returns:
        Any: ``fn(*args)``.
    """
    replay = _BufferReplay(module)
    return checkpoint(
        fn, *args, use_reentrant=False, context_fn=replay.contexts)
