"""The fp32 island: log-det, log-sum-exp and cube sums lose all precision in
fp16, so every estimator computes in fp32 whatever autocast or the input dtype
say."""
import contextlib
import functools
from typing import Callable, Union

import torch
from torch import Tensor


@contextlib.contextmanager
def fp32_island(device: Union[torch.device, str]):
    """Context manager that disables autocast for ``device``'s type.

    Args:
        device (torch.device | str): where the block computes; a device type
            autocast does not know disables nothing.
    """
    device_type = torch.device(device).type
    try:
        ctx = torch.autocast(device_type=device_type, enabled=False)
    except RuntimeError:
        # a device type autocast does not know: nothing to disable
        ctx = contextlib.nullcontext()
    with ctx:
        yield


def fp32(fn: Callable) -> Callable:
    """Decorate a method so that it computes in fp32.

    Args:
        fn (Callable): a method; its floating tensor arguments are cast to
            float32 and it runs inside :func:`fp32_island`.

    Returns:
        Callable: the wrapped method.
    """

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        device = next((a.device for a in args if isinstance(a, Tensor)),
                      torch.device('cpu'))
        args = [
            a.float() if isinstance(a, Tensor) and a.is_floating_point() else a
            for a in args
        ]
        with fp32_island(device):
            return fn(self, *args, **kwargs)

    return wrapper
