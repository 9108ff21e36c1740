"""Classification data: CIFAR datasets (python pickle format) and their transforms.
(Detection data comes from mmdet.)"""
from .cifar import CIFAR10, CIFAR100
from .transforms import ClsRandomCrop, PackInputs

__all__ = ['CIFAR10', 'CIFAR100', 'ClsRandomCrop', 'PackInputs']
