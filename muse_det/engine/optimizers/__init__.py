from .autocast_optim_wrapper import MUSEAutocastOptimWrapper

__all__ = ['MUSEAutocastOptimWrapper']
