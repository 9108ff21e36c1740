"""Optimiser wrappers: autocast without loss scaling, on any device."""
from .autocast_optim_wrapper import MUSEAutocastOptimWrapper

__all__ = ['MUSEAutocastOptimWrapper']
