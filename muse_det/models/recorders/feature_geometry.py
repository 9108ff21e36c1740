"""Where each recorded feature sits on the input image: its shape, stride
and receptive-field offset, measured once when a distiller is built (the
pair losses need all three to pair up locations that look at the same
image point)."""
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

from torch import nn

from .feature_recorder import FeatureRecorder
from .receptive_field import Offset, receptive_field_offsets
from .shape_probe import probe_features


@dataclass(frozen=True)
class FeatureGeometry:
    """``shape``: without the batch, (C, H, W) or (C,). ``stride``: input
    pixels per map pixel (None for a vector). ``offset``: (dy, dx), pixel i
    looks at image point stride * i + offset (None where unmeasured)."""
    shape: Tuple[int, ...]
    stride: Optional[float]
    offset: Optional[Offset]


def measure_geometry(
    net: nn.Module,
    recorder: FeatureRecorder,
    probe_input_shape: Optional[Sequence[int]] = None
) -> Dict[str, FeatureGeometry]:
    """:class:`FeatureGeometry` of every feature ``recorder``
    records in ``net``."""
    shapes, strides = probe_features(net, recorder, probe_input_shape)
    in_channels = probe_input_shape[0] if probe_input_shape else 3
    offsets = receptive_field_offsets(net, strides, in_channels)
    return {
        name: FeatureGeometry(shapes[name], strides[name], offsets.get(name))
        for name in shapes
    }
