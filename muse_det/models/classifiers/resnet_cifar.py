"""mmdet's ResNet with the CIFAR stem: one 3x3 stride-1 conv, no max-pool (32 px inputs)."""
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmdet.models.backbones import ResNet
from torch import nn

from muse_det.registry import MODELS


@MODELS.register_module()
class ResNet_CIFAR(ResNet):  # noqa: N801 (mmpretrain's name, so its configs port as they are)
    """ResNet for 32x32 images (mmpretrain's ``ResNet_CIFAR``): stages see 32, 16, 8, 4 px.

    Takes mmdet ``ResNet``'s arguments; ``norm_eval`` defaults to False (trained from scratch)
    and ``deep_stem`` is not available.
    """

    def __init__(self, depth: int, deep_stem: bool = False, norm_eval: bool = False, **kwargs):
        if deep_stem:
            raise ValueError('ResNet_CIFAR has a single 3x3 stem conv; deep_stem is not '
                             'supported')
        super().__init__(depth, deep_stem=False, norm_eval=norm_eval, **kwargs)

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        # Same module names as mmdet's stem (conv1, norm1), so freezing and checkpoints work.
        self.conv1 = build_conv_layer(self.conv_cfg, in_channels, stem_channels, kernel_size=3,
                                      stride=1, padding=1, bias=False)
        self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, stem_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity()
