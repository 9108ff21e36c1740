"""Checkpoint safety on MMEngine's own load and save paths, active on ``import muse_det``.

* Loading: the local loader of ``CheckpointLoader`` (the ``''`` scheme, behind
  ``Runner.resume``/``--resume``, ``load_from``, ``Runner.load_checkpoint`` and
  ``mmengine.runner.load_checkpoint``) becomes :func:`muse_det.utils.checkpoint_io.safe_load`:
  ``torch.load(weights_only=True)`` with the allow-list of ``checkpoint_io.SAFE_GLOBALS``, and an
  ``UnsafeCheckpointError`` saying what was refused and why instead of a pickle trace.
* Saving: :mod:`.message_hub_state` stores the message hub without ``getattr`` or numpy
  objects, so resuming needs nothing on the allow-list; :mod:`.atomic_checkpoint` makes every
  checkpoint and ``last_checkpoint`` write atomic.

Configs need nothing: a config that imports muse_det (``custom_imports`` or its types) gets it.
"""
from mmengine.runner.checkpoint import CheckpointLoader

from muse_det.utils.checkpoint_io import safe_load
from . import atomic_checkpoint, message_hub_state  # noqa: F401 (importing them installs them)


def load_from_local(filename, map_location):  # MMEngine logs the name after 'load_from_'
    """MMEngine's loader of local checkpoint files, reading with ``weights_only=True``."""
    return safe_load(filename, map_location)


CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
