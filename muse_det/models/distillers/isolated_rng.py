"""Build what a distiller adds without touching the global random stream.

A seed fixes a plain run's data order *and* its initial weights: the runner
builds the model, then calls ``init_weights()``, both drawing from torch's
global CPU generator. If a distiller drew its adapters, critics or extra
networks from that same stream between the two, the wrapped model of a
distilled run would start from other weights than the plain run of the same
seed, and a paired comparison would pair only the data order. Everything a
distiller builds beyond the wrapped model is therefore built inside
:func:`isolated_rng`.
"""
import zlib
from contextlib import contextmanager
from typing import Iterator

import torch


def derived_seed(base_seed: int, tag: str) -> int:
    """A seed that depends only on ``base_seed`` and ``tag``.

    Args:
        base_seed (int): the run's seed (``torch.initial_seed()``).
        tag (str): what is built (``'pair_losses'``, ``'teacher'``,
            ``'peer1'``), so two things built from the same run differ.

    Returns:
        int: a seed in ``[0, 2**63)``.
    """
    return (int(base_seed) * 1_000_003 + zlib.crc32(tag.encode())) % 2**63


@contextmanager
def isolated_rng(tag: str) -> Iterator[None]:
    """Run the body on torch's CPU generator seeded with
    ``derived_seed(torch.initial_seed(), tag)``, then put the generator's
    state back as it was.

    The body's random draws are a function of the run's seed and ``tag``
    only, and the global stream after the block is the one before it, so
    whatever the runner draws next (``init_weights()`` of the wrapped model)
    is what it would draw in a plain run. Only the CPU generator is touched:
    modules are built on the CPU, and CUDA streams stay as they are.

    Args:
        tag (str): names what the body builds (see :func:`derived_seed`).

    Yields:
        None: the body runs with the derived seed.

    Examples:
        >>> with isolated_rng('peer1'):
        ...     peer = build_network(cfg)
    """
    generator = torch.default_generator
    state = generator.get_state()
    generator.manual_seed(derived_seed(torch.initial_seed(), tag))
    try:
        yield
    finally:
        generator.set_state(state)
