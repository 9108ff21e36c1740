"""Classification metrics (detection metrics come from mmdet)."""
from .accuracy import Accuracy, topk_accuracy

__all__ = ['Accuracy', 'topk_accuracy']
