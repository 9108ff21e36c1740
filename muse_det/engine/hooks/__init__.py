"""Hooks: :class:`MUSEHook` schedules and logs the distillation weight."""
from .muse_hook import MUSEHook

__all__ = ['MUSEHook']
