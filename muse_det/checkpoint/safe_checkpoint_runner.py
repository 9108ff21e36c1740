"""MMEngine's Runner with checkpoints that load without running pickled
code."""
from typing import Callable, Dict, Optional, Union

from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from muse_det.registry import RUNNERS
from .safe_checkpoint_hook import MUSESafeCheckpointHook
from .safe_load import safe_load

_STOCK_CHECKPOINT_HOOK = {
    'CheckpointHook', 'mmengine.CheckpointHook', CheckpointHook
}


@RUNNERS.register_module()
class MUSESafeCheckpointRunner(Runner):
    """``Runner`` that reads local checkpoints (``load_from``, ``resume``,
    ``tools/test.py``) with :func:`~muse_det.checkpoint.safe_load` and
    saves them with :class:`~muse_det.checkpoint.MUSESafeCheckpointHook`. One
    line of a config opts in (see Examples).

    * ``safe_load`` is ``torch.load(weights_only=True)``: a checkpoint saved by
      stock MMEngine/MMDetection loads (its message hub's ``HistoryBuffer``s
      and numpy values are rebuilt without running anything from the file), a
      file asking for anything else is refused with
      :class:`~muse_det.checkpoint.UnsafeCheckpointError`.
    * The ``checkpoint`` default hook, when it is MMEngine's
      ``CheckpointHook``, becomes a ``MUSESafeCheckpointHook`` with the same
      arguments (atomic files, removals after the new checkpoint is written, a
      plain-tensor message hub for exact resume); any other checkpoint hook
      type is left as configured.

    Remote checkpoints (``http://``, ``s3://``, ``open-mmlab://``...) load
    through MMEngine's own loaders.

    Examples:
        >>> # configs/muse/muse_retinanet_r50_fpn_1x_coco.py
        >>> runner_type = 'MUSESafeCheckpointRunner'
    """

    def register_default_hooks(
            self,
            hooks: Optional[Dict[str, Union[Hook, Dict]]] = None) -> None:
        """Register MMEngine's default hooks, a stock ``CheckpointHook``
        config becoming :class:`MUSESafeCheckpointHook` with the same
        arguments.

        Args:
            hooks (dict[str, Hook | dict], optional): the config's
                ``default_hooks``, as ``Runner.register_default_hooks``
                takes them. Without a ``checkpoint`` entry, MMEngine's
                default ``dict(type='CheckpointHook', interval=1)`` becomes
                the safe hook; a built hook, ``None`` or another type is
                left as given. Defaults to None.
        """
        hooks = dict(hooks or {})
        checkpoint = hooks.get('checkpoint',
                               dict(type='CheckpointHook', interval=1))
        if isinstance(
                checkpoint,
                dict) and checkpoint.get('type') in _STOCK_CHECKPOINT_HOOK:
            hooks['checkpoint'] = dict(checkpoint, type=MUSESafeCheckpointHook)
        super().register_default_hooks(hooks)

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        """Load a checkpoint into the model as ``Runner.load_checkpoint``
        does, reading a local file with
        :func:`~muse_det.checkpoint.safe_load`.

        A remote file (``'://'`` in ``filename``) goes to MMEngine's own
        loader.

        Args:
            filename (str): path or URL of the checkpoint.
            map_location (str | Callable): where the tensors are mapped.
                Defaults to ``'cpu'``.
            strict (bool): whether the model's and the checkpoint's keys
                must match exactly. Defaults to False.
            revise_keys (list): ``(pattern, replacement)`` pairs applied to
                the checkpoint's keys. Defaults to ``[(r'^module.', '')]``.

        Returns:
            dict: the loaded checkpoint (its message hub rebuilt by the
            ``after_load_checkpoint`` hooks).

        Raises:
            MissingFileError: a local ``filename`` does not exist.
            UnsafeCheckpointError: the file needs globals beyond the
                allow-list.
        """
        if '://' in str(filename):
            return super().load_checkpoint(filename, map_location, strict,
                                           revise_keys)
        checkpoint = safe_load(filename, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
