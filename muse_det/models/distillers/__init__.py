from .base_distiller import BaseDistiller, FeaturePair, feature_label
from .self_distiller import MUSESelfDistiller

__all__ = ['BaseDistiller', 'FeaturePair', 'feature_label', 'MUSESelfDistiller']
