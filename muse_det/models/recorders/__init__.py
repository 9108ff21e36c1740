from .feature_recorder import FeatureRecorder, FeatureSpec, closest_names

__all__ = ['FeatureRecorder', 'FeatureSpec', 'closest_names']
