# Online MUSE on CIFAR-100: two ResNet-18 peers trained together.
# layer1..layer4 of each peer are informative about the same stage of the other
# (both directions), and each peer matches the other's softened predictions
# (deep mutual learning, `logit_kd`). Validation reports peer 0
# (accuracy/top1: exported), peer 1 (peer1/accuracy/...) and the ensemble
# (ensemble/accuracy/...: mean class probabilities).
_base_ = 'mmpretrain::resnet/resnet50_8xb16_cifar100.py'

custom_imports = dict(imports=['muse_det'], allow_failed_imports=False)
resnet18 = dict(
    _base_.model,
    backbone=dict(_base_.model.backbone, depth=18),
    head=dict(_base_.model.head, in_channels=512))
model = dict(
    _delete_=True,
    type='MUSEOnlineDistiller',
    peers=[resnet18, resnet18],
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
custom_hooks = [dict(type='MUSEHook', warmup_iters=500)]
val_evaluator = test_evaluator = dict(
    type='PeerEnsembleMetric', metric=_base_.val_evaluator)
