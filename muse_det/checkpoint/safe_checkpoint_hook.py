"""Checkpoints that survive a kill at any moment and load with
``weights_only=True``."""
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from muse_det.registry import HOOKS
from .atomic_write import atomic_open, remove_stray_temp_files
from .message_hub_state import from_plain, to_plain


def _is_local(path: str) -> bool:
    return '://' not in str(path)


class _RemovalQueue:
    """A file backend whose ``remove``/``rmtree`` are queued instead of run."""

    def __init__(self, backend, queue: list):
        self._backend, self._queue = backend, queue

    def remove(self, path) -> None:
        self._queue.append((self._backend.remove, path))

    def rmtree(self, path) -> None:
        self._queue.append((self._backend.rmtree, path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class MUSESafeCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` (same arguments) whose files a kill cannot
    spoil.

    * A local checkpoint is written through
      :class:`~muse_det.checkpoint.AtomicLocalBackend` (temp file, fsync,
      rename; unless ``backend_args`` names another backend) and
      ``last_checkpoint`` the same way: a kill leaves the previous file or
      the complete new one.
    * Checkpoints beyond ``max_keep_ckpts`` and the previous best checkpoint
      are removed only after the new checkpoint and ``last_checkpoint`` are
      written (none if saving fails), so ``last_checkpoint`` never names a
      deleted file. After each save, the temp files of a write killed earlier
      are removed.
    * The message hub is stored as tensors and plain containers
      (:func:`~muse_det.checkpoint.message_hub_state.to_plain`) and rebuilt
      when a checkpoint is loaded, so resuming needs nothing beyond
      ``torch.load(weights_only=True)``.

    :class:`~muse_det.checkpoint.MUSESafeCheckpointRunner` uses it in place of
    ``CheckpointHook``.

    Examples:
        >>> # configs/muse/*.py: the runner turns the stock checkpoint hook
        >>> # (default_hooks.checkpoint) into this one, same arguments
        >>> runner_type = 'MUSESafeCheckpointRunner'
        >>> # or named directly, with any runner
        >>> default_hooks = dict(
        >>>     checkpoint=dict(type='MUSESafeCheckpointHook', interval=1))
    """

    def before_train(self, runner) -> None:
        """Select the atomic file backend, then set up as
        ``CheckpointHook.before_train`` does.

        When neither ``backend_args`` nor ``file_client_args`` is given and
        the output folder is local, checkpoints are written through
        ``backend='muse_atomic_local'``
        (:class:`~muse_det.checkpoint.AtomicLocalBackend`).

        Args:
            runner (Runner): the training runner.
        """
        out_dir = runner.work_dir if self.out_dir is None else self.out_dir
        default = self.backend_args is None and self.file_client_args is None
        if default and _is_local(out_dir):
            self.backend_args = dict(backend='muse_atomic_local')
        super().before_train(runner)

    def after_val_epoch(self, runner, metrics) -> None:
        """Save the best checkpoint as ``CheckpointHook`` does, removing the
        previous best one only after the new one is written.

        Then the temp files of writes killed earlier are removed.

        Args:
            runner (Runner): the training runner.
            metrics (dict): the validation metrics, ``{name: value}``.
        """
        # a new best checkpoint removes the previous one first: defer that
        queue = []
        backend, self.file_backend = self.file_backend, _RemovalQueue(
            self.file_backend, queue)
        try:
            super().after_val_epoch(runner, metrics)
        finally:
            self.file_backend = backend
        self._remove(queue, runner)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        outdated: Optional[int] = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            # the saved message hub lists the kept ones, this one included
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        with atomic_open(osp.join(runner.work_dir, 'last_checkpoint'),
                         'w') as f:
            f.write(self.last_ckpt)
        queue = []
        if outdated is not None:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                queue.append((self.file_backend.remove, path))
            elif self.file_backend.isdir(path):  # DeepSpeed saves folders
                queue.append((self.file_backend.rmtree, path))
        self._remove(queue, runner)

    def _remove(self, queue: list, runner) -> None:
        for remove, path in queue:
            remove(path)
        for folder in {self.out_dir, runner.work_dir}:
            if is_main_process() and _is_local(folder):
                remove_stray_temp_files(folder)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the message hub as tensors and plain containers
        (:func:`~muse_det.checkpoint.to_plain`), so the checkpoint loads
        with ``weights_only=True``.

        Args:
            runner (Runner): the runner.
            checkpoint (dict): the checkpoint about to be saved; changed in
                place.
        """
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = to_plain(checkpoint['message_hub'])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rebuild the message hub's ``HistoryBuffer``s and numpy values
        (:func:`~muse_det.checkpoint.from_plain`); a message hub in
        MMEngine's own form passes unchanged.

        Args:
            runner (Runner): the runner.
            checkpoint (dict): the loaded checkpoint; changed in place.
        """
        if isinstance(checkpoint.get('message_hub'), dict):
            checkpoint['message_hub'] = from_plain(checkpoint['message_hub'])
