"""Values computed once per training step and shared by the pair losses of
that step (the ``draws`` dict the distiller passes to every pair loss)."""
from torch import Tensor


def tensor_key(x: Tensor) -> tuple:
    """A key equal for tensors that view the same values the same way.

    A feature and each of its ``detach()`` views share a key only when they
    also agree on carrying gradient. The key is valid while the keyed dict
    holds ``x``: its storage cannot be freed and reused meanwhile.

    Args:
        x (Tensor): any tensor.

    Returns:
        tuple: storage pointer, shape, strides, dtype, device, requires_grad.
    """
    return (x.data_ptr(), tuple(x.shape), x.stride(), x.dtype, x.device,
            x.requires_grad)


def step_cached(cache: dict, key: tuple, compute, *keep):
    """The step's value under ``key``, computed on the first call.

    Args:
        cache (dict): the dict kept for one training step.
        key (tuple): names the value (e.g. with :func:`tensor_key` or ``id``).
        compute (Callable[[], Any]): makes the value on the first call.
        *keep: the objects whose ids or storage ``key`` names; held with the
            value, so none can be freed and its id or storage reused while
            the entry lives.

    Returns:
        Any: ``compute()``'s result, the same object on every call of the
        step.
    """
    if key not in cache:
        cache[key] = (*keep, compute())
    return cache[key][-1]
