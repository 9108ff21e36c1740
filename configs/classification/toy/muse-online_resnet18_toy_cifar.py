# Online MUSE on the toy set: two toy ResNet-18 peers trained together (MUSE
# between the same stages of the peers, both directions, plus mutual learning
# of their predictions); validation reports peer 0, peer 1 and their ensemble.
_base_ = './resnet18_toy_cifar.py'

model = dict(
    _delete_=True,
    type='MUSEOnlineDistiller',
    peers=[_base_.model, _base_.model],
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
    logit_kd=dict(logits='head.fc', weight=1.0, temperature=1.0),
    eval_all_peers=True,
    probe_input_shape=(3, 32, 32))
custom_hooks = [dict(type='MUSEHook', warmup_iters=15)]
val_evaluator = dict(
    _delete_=True, type='PeerEnsembleMetric', metric=_base_.val_evaluator)
test_evaluator = val_evaluator
