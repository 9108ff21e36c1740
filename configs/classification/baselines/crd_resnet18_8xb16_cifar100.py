# The pairs, adapters and schedule of MUSE's ResNet-18 CIFAR-100 config
# (layer1..layer3 taught by layer4) with the 'crd' discrepancy instead:
# the loss dict is the whole change.
_base_ = '../muse_resnet18_8xb16_cifar100.py'

# _delete_: the loss dict replaces MUSE's (a loss rejects options it does not
# take); the sampling and the recomputed student side are MUSE's
model = dict(
    loss=dict(
        _delete_=True,
        type='crd',
        pool=False,
        grid=4,
        num_samples=16,
        with_cp=True))
