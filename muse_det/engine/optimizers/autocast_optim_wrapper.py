"""Mixed precision on any device: autocast without loss scaling
(bf16 needs none)."""
from contextlib import contextmanager
from typing import Union

import torch
from mmengine.optim import OptimWrapper

from muse_det.errors import MuseDetError
from muse_det.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast`` on
    the model's device.

    mmengine's ``AmpOptimWrapper`` is CUDA/NPU-only and scales fp16 losses;
    bfloat16 has fp32's exponent range, so on CPU (``tools/train.py --amp``)
    autocast alone is the whole recipe. muse-det's estimators compute in fp32
    islands inside it.

    Args:
        dtype: ``'bfloat16'`` (default) or ``'float16'``.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs):
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in ('bfloat16', 'float16'):
                raise MuseDetError(
                    'AutocastOptimWrapper dtype must be "bfloat16" or '
                    f'"float16", got {dtype!r}')
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model):
        params = next(iter(model.parameters()), None)
        device = params.device.type if params is not None else 'cpu'
        with super().optim_context(model), torch.autocast(
                device_type=device, dtype=self.cast_dtype):
            yield
