"""What muse-det adds to a model: feature recorders, the distillation loss
table and the distillers."""
from .distillers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recorders import *  # noqa: F401,F403
