# MUSE self-distillation (additive) on MobileNetV2 / CIFAR-100: the stride-4, -8 and -16
# stages are each taught by the last conv (1280 channels), through pooled vectors.
_base_ = './mobilenet-v2_8xb16_cifar100.py'

model = dict(
    _delete_=True, type='MUSESelfDistiller', architecture=_base_.model,
    features=['backbone.layer2', 'backbone.layer3', 'backbone.layer5', 'backbone.conv2'],
    loss=dict(type='MUSELoss', variant='additive', pool=True),
    probe_input_shape=(3, 32, 32))
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
