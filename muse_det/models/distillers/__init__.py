"""The distillers (self, online, offline), what they share, and the export of
their checkpoints to the wrapped model's own."""
from .base_distiller import BaseDistiller
from .feature_pairs import FeaturePair, feature_label
from .offline_distiller import MUSEOfflineDistiller
from .online_distiller import MUSEOnlineDistiller
from .self_distiller import MUSESelfDistiller

__all__ = [
    'BaseDistiller', 'FeaturePair', 'feature_label', 'MUSESelfDistiller',
    'MUSEOnlineDistiller', 'MUSEOfflineDistiller'
]
