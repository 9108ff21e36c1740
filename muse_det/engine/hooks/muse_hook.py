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
    the diverged layer, if a recorded feature held NaN/Inf
    (``BaseDistiller.raise_if_features_non_finite``).

    Args:
        warmup_iters (int): iterations of linear warm-up (0: the loss's
            whole ``loss_weight`` from the start). Defaults to 0.
        start_factor (float): the scale at the first iteration of warm-up,
            in [0, 1]. Defaults to 0.0.
        stop_epoch (int, optional): stop distilling from this epoch (0-based)
            on; ``None``: never. Defaults to None.
        stop_iter (int, optional): stop distilling from this iteration
            (0-based) on; ``None``: never. Defaults to None.

    Raises:
        MuseDetError: an argument is out of range or of the wrong type.

    Examples:
        >>> # configs/muse/muse_retinanet_r50_fpn_1x_coco.py: no warm-up
        >>> custom_hooks = [dict(type='MUSEHook')]
        >>> # configs/classification/toy/muse_resnet18_toy_cifar.py: warm-up
        >>> custom_hooks = [dict(type='MUSEHook', warmup_iters=15)]
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
        """The distillation weight scale at a point of training.

        Args:
            iteration (int): the runner's iteration (0-based).
            epoch (int): the runner's epoch (0-based).

        Returns:
            float: the scale in [0, 1]; 0 once stopped.
        """
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
        """Check that the trained model is a muse-det distiller.

        Args:
            runner (Runner): the training runner.

        Raises:
            TypeError: the model (unwrapped from DDP & co.) has no
                ``distill_weight_scale``.
        """
        self._distiller(runner)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        """Set the distiller's ``distill_weight_scale`` for this iteration
        (:meth:`scale_at`) and log it as ``train/muse_weight_scale``.

        Args:
            runner (Runner): the training runner.
            batch_idx (int): the iteration's index in the epoch (unused).
            data_batch (dict, optional): the batch (unused). Defaults to
                None.
        """
        scale = self.scale_at(runner.iter, runner.epoch)
        self._distiller(runner).distill_weight_scale = scale
        runner.message_hub.update_scalar('train/muse_weight_scale', scale)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """When the step's total loss is NaN/Inf, raise the error naming the
        feature that held NaN/Inf (nothing if every recorded feature was
        finite).

        Args:
            runner (Runner): the training runner.
            batch_idx (int): the iteration's index in the epoch (unused).
            data_batch (dict, optional): the batch (unused). Defaults to
                None.
            outputs (dict, optional): the step's outputs (unused: the loss
                is read from the message hub's ``train/loss``). Defaults to
                None.

        Raises:
            ValueError: from the distiller's
                ``raise_if_features_non_finite``.
        """
        # 'train/loss' is a float by now (RuntimeInfoHook, priority
        # VERY_HIGH, ran first)
        loss = runner.message_hub.log_scalars.get('train/loss')
        if loss is not None and not math.isfinite(loss.current()):
            self._distiller(runner).raise_if_features_non_finite()
