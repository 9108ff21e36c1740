"""Training-loop components: the distillation-weight hook and the autocast
optimiser wrapper."""
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
