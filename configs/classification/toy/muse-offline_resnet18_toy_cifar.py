# Offline MUSE on the toy set: the trained plain toy ResNet-18 (frozen) teaches
# a fresh one, stage by stage. Train the teacher first:
#   python tools/train.py configs/classification/toy/resnet18_toy_cifar.py
#   python tools/train.py \
#       configs/classification/toy/muse-offline_resnet18_toy_cifar.py
_base_ = './resnet18_toy_cifar.py'

model = dict(
    _delete_=True,
    type='MUSEOfflineDistiller',
    architecture=_base_.model,
    teacher=_base_.model,
    teacher_ckpt='work_dirs/resnet18_toy_cifar/iter_150.pth',
    features=[
        'backbone.layer1', 'backbone.layer2', 'backbone.layer3',
        'backbone.layer4'
    ],
    loss=dict(
        type='MUSELoss',
        variant='additive',
        pool=False,
        grid=4,
        num_samples=16),
    probe_input_shape=(3, 32, 32))
custom_hooks = [dict(type='MUSEHook', warmup_iters=15)]
