"""The MUSE objective: mutual information with the target plus the
student's self-information."""
from typing import Dict, Optional

from torch import Tensor, nn

from .entropy import build_entropy_estimator
from .mutual_information import build_mi_estimator
from .validation import check_choice, check_weight

DEFAULT_ENTROPY = {'additive': 'gaussian', 'multiplicative': 'coding_rate'}
DEFAULT_ENTROPY_WEIGHT = 0.1


class MUSEObjective(nn.Module):
    """The MUSE objective J (maximised): MI plus the self-information.

    - ``variant='multiplicative'`` (default): ``J = I+ * R / d``,
      ``I+ = max(I - chance_level, 0)``;
    - ``variant='additive'``: ``J = mu * I + lambda * H / d``.

    I: the ``mi_estimator``'s estimate from the critic scores (positives at
    (i, offset + i)). H (R): the ``entropy_estimator``'s estimate on the
    samples the caller measures entropy on (:class:`~.pair_losses.MUSELoss`
    passes a fixed orthonormal projection of the raw student samples, with
    nothing learnable in it), divided by their dimension d so that lambda
    need not change with it. Why the multiplicative default: docs/method.md,
    "The two variants".

    Multiplicative gradient: an untrained critic sits at (or, by convexity
    of softplus, below) chance, where a plain clamp would give the critic
    zero gradient and the run would never start. I+ is therefore a
    straight-through clamp: its *value* is max(I - chance_level, 0), its
    gradient that of I. Then dJ/dI = R/d >= 0 (a collapsed layer gets little
    credit for MI) and dJ/dR = I+/d (an uninformative layer little credit
    for entropy).

    Args:
        variant (str): 'multiplicative' or 'additive'. Defaults to
            'multiplicative'.
        mi_estimator (str | dict | nn.Module): the MI estimator, see
            :func:`~.mutual_information.build_mi_estimator`. Defaults to
            'jsd'.
        entropy_estimator (str | dict | nn.Module, optional): the entropy
            estimator, see :func:`~.entropy.build_entropy_estimator`; None:
            'gaussian' (standardised) for additive, 'coding_rate' (unit rows,
            nonnegative) for multiplicative, whose product needs R >= 0.
            Defaults to None.
        entropy_weight (float, optional): lambda, additive only (an error
            with the multiplicative variant rather than silently ignored).
            None: 0.1, modest on purpose, the entropy as a small regulariser
            (why: docs/method.md, "Defaults, and why"). A plain float
            attribute, re-validated every call, so a hook may warm it up.
            Defaults to None.
        mi_weight (float, optional): mu, additive only; None: 1. For the
            ablation of MUSE's parts: mu = 0 keeps the self-information alone
            (the critic and adapters stay in the graph with zero gradient,
            so DDP sees the same parameters), lambda = 0 the MI alone.
            Defaults to None.
    """

    VARIANTS = ('additive', 'multiplicative')

    def __init__(self,
                 variant: str = 'multiplicative',
                 mi_estimator='jsd',
                 entropy_estimator=None,
                 entropy_weight: Optional[float] = None,
                 mi_weight: Optional[float] = None):
        super().__init__()
        self.variant = check_choice('MUSE variant', variant, self.VARIANTS)
        self.mi = build_mi_estimator(mi_estimator)
        self.entropy = build_entropy_estimator(entropy_estimator
                                               or DEFAULT_ENTROPY[variant])
        for name, value in (('entropy_weight', entropy_weight), ('mi_weight',
                                                                 mi_weight)):
            if variant == 'multiplicative' and value is not None:
                raise ValueError(
                    f"{name} applies to variant='additive' only (the "
                    'multiplicative J = I+ * R / d has no weight); remove it '
                    "or use variant='additive'")
        self.mi_weight = check_weight(1.0 if mi_weight is None else mi_weight,
                                      'mi_weight')
        self.entropy_weight = check_weight(
            DEFAULT_ENTROPY_WEIGHT
            if entropy_weight is None else entropy_weight, 'entropy_weight')

    def forward(self,
                scores: Tensor,
                z_s: Tensor,
                offset: int = 0) -> Dict[str, Tensor]:
        """Compute J and its two terms.

        Args:
            scores (Tensor): critic scores, shape (N, M); row i's positive at
                column ``offset + i``.
            z_s (Tensor): the samples the entropy is measured on, shape
                (N, d); d divides H (R) in J. ``MUSELoss`` passes
                ``entropy_view(s)``, the fixed orthonormal projection of the
                raw student samples (d = d_H), not the adapter output.
            offset (int): column offset of the positives (non-zero when the
                targets of other ranks are gathered). Defaults to 0.

        Returns:
            dict[str, Tensor]: ``objective`` (J, scalar, to maximise), ``mi``
            (I, scalar) and ``entropy`` (H or R, scalar), not detached.
        """
        mi = self.mi(scores, offset)
        entropy = self.entropy(z_s)
        d = z_s.shape[1]
        if self.variant == 'additive':
            objective = check_weight(self.mi_weight, 'mi_weight') * mi + \
                check_weight(self.entropy_weight,
                             'entropy_weight') * entropy / d
        else:
            shifted = mi - self.mi.chance_level
            # straight-through
            mi_plus = shifted + (shifted.clamp(min=0) - shifted).detach()
            objective = mi_plus * entropy / d
        return dict(objective=objective, mi=mi, entropy=entropy)
