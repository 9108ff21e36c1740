"""The distiller's ``loss=`` dict: muse-det's pair losses by their own names,
any other registered loss from the config's scope."""
from .distill_loss import (PAIR_LOSS_TYPES, UnknownLossOptionError,
                           build_distill_loss, check_loss_cfg, loss_options)

__all__ = [
    'PAIR_LOSS_TYPES', 'UnknownLossOptionError', 'build_distill_loss',
    'check_loss_cfg', 'loss_options'
]
