# The toy classification demo with MUSE self-distillation (multiplicative):
# layer1..layer3 taught by layer4, sampled at the 4x4 locations of
# layer4's grid; mutual information by InfoNCE, the estimator the
# classification ablation chose (docs/method.md). Everything below _base_
# is the whole change to the plain classifier config.
# with_cp: the student side of each pair is recomputed in backward, the
# same loss and gradients for less memory (docs/method.md, "Cost").
_base_ = './resnet18_toy_cifar.py'

model = dict(
    _delete_=True,
    type='MUSESelfDistiller',
    architecture=_base_.model,
    features=[
        'backbone.layer1', 'backbone.layer2', 'backbone.layer3',
        'backbone.layer4'
    ],
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
