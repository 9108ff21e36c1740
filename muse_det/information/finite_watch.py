"""NaN/Inf detection of features and losses without a device sync per step."""
import math

import torch
from torch import Tensor


def non_finite_message(name: str, kind: str, shape) -> str:
    """The error message for a non-finite tensor, with the fixes to try.

    Args:
        name (str): the tensor's name (a layer, a loss).
        kind (str): ``'NaN'`` or ``'Inf'``.
        shape (Sequence[int]): the tensor's shape.

    Returns:
        str: the message.
    """
    return (f'{name} contains {kind} values (shape {tuple(shape)}); the layer '
            'that produced it diverged: lower the learning rate or the loss '
            'weight, or enable gradient clipping')


class FiniteWatch:
    """NaN/Inf detection that never waits for the device while training.

    :meth:`record` keeps ``aminmax(x)`` as two 0-d tensors on x's device (one
    reduction, no copy of x): a NaN anywhere makes both NaN, an Inf makes one
    of them infinite, so NaN and Inf are told apart exactly (a sum could
    overflow on large finite values). Nothing is read until
    :meth:`first_non_finite`, one device sync for everything recorded, which a
    training loop calls only once something downstream (the step's loss) is
    known to be non-finite: a NaN feature still fails with the layer's name,
    and a healthy step costs no sync. :meth:`clear` starts a new step.
    """

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        """Forget everything recorded (a new step)."""
        self._records = []

    def record(self, key, x: Tensor) -> None:
        """Keep ``x``'s extremes for a later check; no device sync.

        Args:
            key: names ``x`` in the error (e.g. a layer's name).
            x (Tensor): any shape; empty tensors are skipped.
        """
        if x.numel():
            self._records.append(
                (key, tuple(x.shape), torch.aminmax(x.detach())))

    def first_non_finite(self):
        """The first recorded tensor that is not finite; reads the device
        once.

        Returns:
            tuple | None: ``(key, 'NaN' or 'Inf', shape)``, or None when all
            are finite.
        """
        if not self._records:
            return None
        values = torch.stack([
            v.float() for _, _, extremes in self._records for v in extremes
        ]).tolist()
        for i, (key, shape, _) in enumerate(self._records):
            low, high = values[2 * i], values[2 * i + 1]
            if math.isnan(low) or math.isnan(high):
                return key, 'NaN', shape
            if math.isinf(low) or math.isinf(high):
                return key, 'Inf', shape
        return None

    def check(self) -> None:
        """Raise ``ValueError`` naming the first non-finite tensor
        (keys are its name)."""
        bad = self.first_non_finite()
        if bad is not None:
            raise ValueError(non_finite_message(*bad))


def check_finite(**named: Tensor) -> None:
    """Raise ``ValueError`` if any tensor is not finite: one device sync for
    all of them.

    For use outside a training step; training loops record into a
    :class:`FiniteWatch` instead.

    Args:
        **named (Tensor): the tensors, by the names the error uses.
    """
    watch = FiniteWatch()
    for name, x in named.items():
        watch.record(name, x)
    watch.check()
