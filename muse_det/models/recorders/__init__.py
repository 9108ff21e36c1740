"""Record and measure a network's intermediate features: forward-hook
recording (:class:`FeatureRecorder`), shape/stride probing at build time and
receptive-field offsets."""
from .feature_recorder import FeatureRecorder, FeatureSpec, closest_names
from .shape_probe import (backbone_stages, default_features, feature_shapes,
                          probe_features, probe_size, run_probe)

__all__ = [
    'FeatureRecorder', 'FeatureSpec', 'closest_names', 'backbone_stages',
    'default_features', 'feature_shapes', 'probe_features', 'probe_size',
    'run_probe'
]
