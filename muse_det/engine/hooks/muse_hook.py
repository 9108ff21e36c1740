"""Schedule and log the distillation weight during training."""
import math
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from muse_det.errors import MuseDetError
from muse_det.registry import HOOKS


@HOOKS.register_module()
class MUSEHook(Hook):
    """Linear warm-up of the distillation weight and an optional stop; holds no
    parameters.

    The scale applied to ``loss_<method>`` at iteration ``i`` (0-based) is
    ``start_factor + (1 - start_factor) * min(1, (i + 1) / warmup_iters)``,
    and 0 from epoch ``stop_epoch`` (or iteration ``stop_iter``) on, after
    which the pair losses are not computed at all. The scale depends only
    on the runner's iteration/epoch, so a resumed run continues the same
    schedule. The scale is logged as ``muse_weight_scale``; the
    information terms (``mi/...``, ``entropy/...``) are logged by the
    model's loss dict and reach every visualizer backend (TensorBoard,
    W&B, ``scalars.json``) through mmengine's logger. After each step
    whose total loss is NaN/Inf (the value the logger has already read, so
    no extra device sync), it raises the error naming the iteration and
    the diverged layer (``BaseDistiller.raise_if_features_non_finite``).

    Args:
        warmup_iters: iterations of linear warm-up (0: full weight from the
        start). start_factor: scale at the first iteration of warm-up.
        stop_epoch: stop distilling from this epoch (0-based) on; ``None``
        never. stop_iter: stop distilling from this iteration on; ``None``
        never.
    """
    priority = 'NORMAL'

    def __init__(self,
                 warmup_iters: int = 0,
                 start_factor: float = 0.0,
                 stop_epoch: Optional[int] = None,
                 stop_iter: Optional[int] = None):
        for name, value in (('warmup_iters', warmup_iters),
                            ('stop_epoch', stop_epoch), ('stop_iter',
                                                         stop_iter)):
            if value is not None and (isinstance(value, bool) or
                                      not isinstance(value, int) or value < 0):
                raise MuseDetError(
                    f'MUSEHook: {name} must be a non-negative integer, got '
                    f'{value!r}')
        is_number = isinstance(
            start_factor, (int, float)) and not isinstance(start_factor, bool)
        if not is_number or not 0 <= start_factor <= 1:
            raise MuseDetError(
                'MUSEHook: start_factor must be a number in [0, 1], got '
                f'{start_factor!r}')
        self.warmup_iters = warmup_iters
        self.start_factor = float(start_factor)
        self.stop_epoch = stop_epoch
        self.stop_iter = stop_iter

    def scale_at(self, iteration: int, epoch: int) -> float:
        if (self.stop_epoch is not None and epoch >= self.stop_epoch) or \
                (self.stop_iter is not None and iteration >= self.stop_iter):
            return 0.0
        if self.warmup_iters <= 0:
            return 1.0
        progress = min(1.0, (iteration + 1) / self.warmup_iters)
        return self.start_factor + (1.0 - self.start_factor) * progress

    @staticmethod
    def _distiller(runner):
        """The trained model (unwrapped from DDP & co.); a distiller has a
        ``distill_weight_scale``."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'distill_weight_scale'):
            raise TypeError(
                f'MUSEHook needs a muse-det distiller as the model (e.g. '
                'type="MUSESelfDistiller"), but the model is '
                f'{type(model).__name__}; remove '
                f'MUSEHook from custom_hooks or wrap the model in a distiller.'
            )
        return model

    def before_train(self, runner) -> None:
        self._distiller(runner)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        scale = self.scale_at(runner.iter, runner.epoch)
        self._distiller(runner).distill_weight_scale = scale
        runner.message_hub.update_scalar('train/muse_weight_scale', scale)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        # 'train/loss' is a float by now (RuntimeInfoHook, priority
        # VERY_HIGH, ran first)
        loss = runner.message_hub.log_scalars.get('train/loss')
        if loss is not None and not math.isfinite(loss.current()):
            self._distiller(runner).raise_if_features_non_finite()
