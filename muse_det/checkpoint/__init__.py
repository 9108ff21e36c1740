"""Checkpoints that a crash cannot tear and a pickle cannot exploit: safe
reading, atomic writing, the message hub's state in a weights-only form, and
the runner and hook that use them."""
from .atomic_local_backend import AtomicLocalBackend
from .atomic_write import atomic_open, atomic_save, remove_stray_temp_files
from .message_hub_state import from_plain, to_plain
from .safe_checkpoint_hook import MUSESafeCheckpointHook
from .safe_checkpoint_runner import MUSESafeCheckpointRunner
from .safe_load import (MMENGINE_STATE_GLOBALS, NAMED_ALLOW_LIST,
                        UnsafeCheckpointError, allow_list_entries,
                        allowed_globals, history_buffer_statistic, safe_load,
                        unsafe_globals_in)

__all__ = [
    'AtomicLocalBackend', 'atomic_open', 'atomic_save',
    'remove_stray_temp_files', 'from_plain', 'to_plain',
    'MUSESafeCheckpointHook', 'MUSESafeCheckpointRunner',
    'MMENGINE_STATE_GLOBALS', 'NAMED_ALLOW_LIST', 'UnsafeCheckpointError',
    'allow_list_entries', 'allowed_globals', 'history_buffer_statistic',
    'safe_load', 'unsafe_globals_in'
]
