"""Rows of a tensor from every rank (torch.distributed), with gradients back to
their owners."""
from typing import List, Tuple

import torch
import torch.distributed as dist
from torch import Tensor


def world(group=None) -> Tuple[int, int]:
    """Rank and world size in ``group``.

    Args:
        group (ProcessGroup, optional): the process group; None: the default
            group. Defaults to None.

    Returns:
        tuple[int, int]: (rank, world size); (0, 1) when torch.distributed
        is not available or not initialised.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return 0, 1
    return dist.get_rank(group), dist.get_world_size(group)


class _GatherRows(torch.autograd.Function):
    """Forward: the rows of every rank, rank order. Backward: every rank's
    loss depends on every row, so the gradient of the gathered tensor is
    summed over ranks (all-reduce) and each rank keeps its own rows' part:
    with DDP's average over ranks this is exactly the gradient of the mean of
    the ranks' losses."""

    @staticmethod
    def forward(ctx, x: Tensor, sizes: List[int], rank: int, group) -> Tensor:
        ctx.sizes, ctx.rank, ctx.group = sizes, rank, group
        padded = x.new_zeros((max(sizes), *x.shape[1:]))
        padded[:x.shape[0]] = x
        parts = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(parts, padded, group=group)
        parts[rank] = x  # the local rows as they are (bitwise)
        return torch.cat([part[:n] for part, n in zip(parts, sizes)])

    @staticmethod
    def backward(ctx, grad: Tensor):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, group=ctx.group)
        start = sum(ctx.sizes[:ctx.rank])
        return grad[start:start + ctx.sizes[ctx.rank]], None, None, None


def gather_rows(x: Tensor, group=None) -> Tuple[Tensor, int]:
    """Gather the rows of every rank, with gradients back to their owners.

    Ranks may hold different numbers of rows (padding masks, image sizes):
    the counts are exchanged first, a read of ``world size`` integers, the
    only host-device sync of the option on a GPU. In backward the gradient
    of the gathered tensor is summed over ranks and each rank keeps its own
    rows' part: with DDP's average over ranks this is the gradient of the
    mean of the ranks' losses.

    Args:
        x (Tensor): this rank's rows, shape (N_local, ...).
        group (ProcessGroup, optional): the process group; None: the default
            group. Defaults to None.

    Returns:
        tuple[Tensor, int]: the rows of all ranks in rank order, shape
        (N_global, ...) (this rank's rows are ``x`` itself, bitwise), and the
        index of this rank's first row in them. Without torch.distributed,
        or with one rank: ``(x, 0)``.
    """
    rank, size = world(group)
    if size == 1:
        return x, 0
    count = torch.tensor([x.shape[0]], device=x.device)
    counts = [torch.empty_like(count) for _ in range(size)]
    dist.all_gather(counts, count, group=group)
    sizes = torch.cat(counts).tolist()
    return _GatherRows.apply(x.contiguous(), sizes, rank,
                             group), sum(sizes[:rank])
