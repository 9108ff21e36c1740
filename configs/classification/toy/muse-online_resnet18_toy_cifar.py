# Online MUSE on the toy set: two toy ResNet-18 peers trained together (MUSE
# between the same stages of the peers, both directions, plus mutual learning
# of their predictions); validation reports peer 0, peer 1 and their ensemble.
# The peers, features and loss are those of the toy self-distillation config.
_base_ = './muse_resnet18_toy_cifar.py'
# yapf: disable
model = dict(
    _delete_=True, type='MUSEOnlineDistiller',
    peers=[_base_.model.architecture] * 2,
    features=_base_.model.features, loss=_base_.model.loss,
    logit_kd=dict(logits='head.fc', weight=1.0, temperature=1.0),
    eval_all_peers=True, probe_input_shape=(3, 32, 32))
val_evaluator = test_evaluator = dict(
    _delete_=True, type='MUSEPeerEnsembleMetric', metric=_base_.val_evaluator)
