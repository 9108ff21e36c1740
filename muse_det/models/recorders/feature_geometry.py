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
    """Where one recorded feature sits on the input image.

    Args:
        shape (tuple[int]): the feature's shape without the batch dimension,
            ``(C, H, W)`` for a map or ``(C,)`` for a vector.
        stride (float, optional): input pixels per map pixel; ``None`` for a
            vector feature.
        offset (tuple[float, float], optional): ``(dy, dx)`` such that map
            pixel ``i`` looks at image point ``stride * i + offset``;
            ``None`` where it could not be measured (the pixel is then read
            at ``stride * i``).
    """
    shape: Tuple[int, ...]
    stride: Optional[float]
    offset: Optional[Offset]


def measure_geometry(
    net: nn.Module,
    recorder: FeatureRecorder,
    probe_input_shape: Optional[Sequence[int]] = None
) -> Dict[str, FeatureGeometry]:
    """Measure the :class:`FeatureGeometry` of every feature ``recorder``
    records in ``net``.

    Shapes and strides come from :func:`~.shape_probe.probe_features` (one
    forward on zeros), offsets from
    :func:`~.receptive_field.receptive_field_offsets`.

    Args:
        net (nn.Module): the network ``recorder`` hooks, with an
            ``extract_feat`` method (mmdet detector, mmpretrain classifier).
        recorder (FeatureRecorder): the recorder of ``net``'s features.
        probe_input_shape (Sequence[int], optional): ``(C, H, W)`` of the
            zero probe images; ``None`` lets :func:`~.shape_probe.run_probe`
            choose. Defaults to None.

    Returns:
        dict[str, FeatureGeometry]: feature name -> its geometry.
    """
    shapes, strides = probe_features(net, recorder, probe_input_shape)
    in_channels = probe_input_shape[0] if probe_input_shape else 3
    offsets = receptive_field_offsets(net, strides, in_channels)
    return {
        name: FeatureGeometry(shapes[name], strides[name], offsets.get(name))
        for name in shapes
    }
