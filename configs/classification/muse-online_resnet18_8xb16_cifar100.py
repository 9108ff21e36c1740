# Online MUSE on CIFAR-100: two ResNet-18 peers trained together.
# layer1..layer4 of each peer are informative about the same stage of the other
# (both directions), and each peer matches the other's softened predictions
# (deep mutual learning, `logit_kd`). Validation reports peer 0
# (accuracy/top1: exported), peer 1 (peer1/accuracy/...) and the ensemble
# (ensemble/accuracy/...: mean class probabilities). The peers, features and
# loss are those of the self-distillation config.
_base_ = './muse_resnet18_8xb16_cifar100.py'
# yapf: disable
model = dict(
    _delete_=True, type='MUSEOnlineDistiller', peers=[_base_.resnet18] * 2,
    features=_base_.model.features, loss=_base_.model.loss,
    logit_kd=dict(logits='head.fc', weight=1.0, temperature=1.0),
    eval_all_peers=True, probe_input_shape=(3, 32, 32))
val_evaluator = test_evaluator = dict(type='MUSEPeerEnsembleMetric',
                                      metric=_base_.val_evaluator)
