from .muse_hook import MUSEHook

__all__ = ['MUSEHook']
