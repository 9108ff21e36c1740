"""What muse-det puts in MMEngine's root registries, which every OpenMMLab
scope shares: only types whose names say they are muse-det's."""
import pytest
from mmengine import registry as root

import muse_det  # noqa: F401
from muse_det.information import PAIR_LOSSES
from muse_det.models.losses import PAIR_LOSS_TYPES, build_distill_loss

ROOT_REGISTRIES = [
    getattr(root, name) for name in dir(root)
    if isinstance(getattr(root, name), root.Registry)
]


def _ours():
    return sorted((reg.name, key) for reg in ROOT_REGISTRIES
                  for key, cls in reg.module_dict.items()
                  if getattr(cls, '__module__', '').startswith('muse_det'))


def test_root_registries_hold_only_prefixed_types():
    ours = _ours()
    assert ('model', 'MUSESelfDistiller') in ours
    assert [k for _, k in ours if not k.startswith('MUSE')] == []


@pytest.mark.parametrize('name', sorted(PAIR_LOSS_TYPES))
def test_loss_names_live_in_muse_det_table_only(name):
    """'l2', 'at', ..., 'MUSELoss' resolve in the distiller's loss table and
    nowhere in the shared registries."""
    assert all(name not in reg.module_dict for reg in ROOT_REGISTRIES)
    loss = build_distill_loss(
        dict(type=name), student_channels=8, target_channels=16)
    assert type(loss) is PAIR_LOSS_TYPES[name]
    assert type(loss) in PAIR_LOSSES.values()


def test_a_loss_of_ones_own_is_built_from_the_config_scope():
    """A type outside muse-det's table comes from the config's scope, told
    the channels the distiller measured."""
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmengine.registry import DefaultScope
    from torch import nn

    class MyPairLoss(nn.Module):

        def __init__(self, student_channels, target_channels, scale=1.0):
            super().__init__()
            self.channels = (student_channels, target_channels)
            self.scale = scale

    name = 'MyPairLossForTheRegistryTest'
    MMDET_MODELS.register_module(name=name, module=MyPairLoss)
    try:
        with DefaultScope.overwrite_default_scope('mmdet'):
            loss = build_distill_loss(
                dict(type=name, scale=2.0),
                student_channels=8,
                target_channels=16)
    finally:
        MMDET_MODELS.module_dict.pop(name)
    assert isinstance(loss, MyPairLoss)
    assert loss.channels == (8, 16) and loss.scale == 2.0
