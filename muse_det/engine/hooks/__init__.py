from .muse_hook import MUSEHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = ['MUSEHook', 'SafeCheckpointHook']
