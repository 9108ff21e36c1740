"""Image classification in mmpretrain's style, with backbones from mmdet's registry."""
from .data_preprocessor import ClsDataPreprocessor
from .image_classifier import ImageClassifier
from .label_smooth_loss import LabelSmoothLoss
from .linear_head import LinearClsHead
from .resnet_cifar import ResNet_CIFAR

__all__ = ['ClsDataPreprocessor', 'ImageClassifier', 'LabelSmoothLoss', 'LinearClsHead',
           'ResNet_CIFAR']
