# mmdet's MobileNetV2 on CIFAR-100 from scratch, 8 GPUs x 16 images, 200 epochs: the light
# family. (ImageNet strides, so 32 px inputs end at 1x1; accuracy is below the ResNets'.)
_base_ = [
    '_base_/models/mobilenet-v2_cifar.py', '_base_/datasets/cifar100_bs16.py',
    '_base_/schedules/cifar_bs128.py', '_base_/default_runtime.py'
]

model = dict(head=dict(num_classes=100))
