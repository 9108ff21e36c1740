# MUSE self-distillation on the hard toy set: the MUSE lines of
# muse_resnet18_toy_cifar.py over the plain resnet18_toy_cifar_hard.py.
# Everything below _base_ is the change.
_base_ = './resnet18_toy_cifar_hard.py'

model = dict(
    _delete_=True,
    type='MUSESelfDistiller',
    architecture=_base_.model,
    features=[f'backbone.layer{i}' for i in (1, 2, 3, 4)],
    loss=dict(
        type='MUSELoss',
        variant='multiplicative',
        mi_estimator='infonce',
        pool=False,
        grid=4,
        num_samples=16,
        with_cp=True),
    probe_input_shape=(3, 32, 32))
custom_hooks = [dict(type='MUSEHook', warmup_iters=15)]
