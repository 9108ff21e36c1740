from .feature_recorder import FeatureRecorder, FeatureSpec, closest_names
from .shape_probe import (backbone_stages, default_features, feature_shapes,
                          probe_features, probe_size, run_probe)

__all__ = [
    'FeatureRecorder', 'FeatureSpec', 'closest_names', 'backbone_stages',
    'default_features', 'feature_shapes', 'probe_features', 'probe_size',
    'run_probe'
]
