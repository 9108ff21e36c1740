"""Mixed precision on any device: autocast without loss scaling
(bf16 needs none)."""
from contextlib import contextmanager
from typing import Union

import torch
from mmengine.optim import OptimWrapper

from muse_det.errors import MuseDetError
from muse_det.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class MUSEAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast`` on
    the model's device.

    mmengine's ``AmpOptimWrapper`` is CUDA/NPU-only and scales fp16 losses;
    bfloat16 has fp32's exponent range, so on CPU (``tools/train.py --amp``)
    autocast alone is the whole recipe. muse-det's estimators compute in fp32
    islands inside it.

    Args:
        dtype (str | torch.dtype): the autocast dtype, ``'bfloat16'`` or
            ``'float16'`` (or a ``torch.dtype``). Defaults to
            ``'bfloat16'``.
        **kwargs: ``OptimWrapper``'s arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).

    Examples:
        >>> # what ``tools/train.py --amp`` sets on a machine without CUDA
        >>> # (muse_det/utils/launch.py, enable_amp)
        >>> optim_wrapper = dict(
        >>>     type='MUSEAutocastOptimWrapper', dtype='bfloat16',
        >>>     optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
        >>>                    weight_decay=0.0001))
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs):
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in ('bfloat16', 'float16'):
                raise MuseDetError(
                    'MUSEAutocastOptimWrapper dtype must be "bfloat16" or '
                    f'"float16", got {dtype!r}')
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model):
        """``OptimWrapper.optim_context`` plus ``torch.autocast`` to
        :attr:`cast_dtype` on the device type of ``model``'s first parameter
        (CPU for a model without parameters).

        Args:
            model (nn.Module): the trained model.

        Yields:
            None: the forward and loss run inside the context.
        """
        params = next(iter(model.parameters()), None)
        device = params.device.type if params is not None else 'cpu'
        with super().optim_context(model), torch.autocast(
                device_type=device, dtype=self.cast_dtype):
            yield
