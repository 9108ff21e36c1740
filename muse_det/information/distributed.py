"""Rows of a tensor from every rank (torch.distributed), with gradients back to
their owners."""
from typing import List, Tuple

import torch
import torch.distributed as dist
from torch import Tensor


def world(group=None) -> Tuple[int, int]:
    """(rank, world size) in ``group``; (0, 1) when torch.distributed is
    not initialised."""
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
    """x [N_local, ...] -> (rows of all ranks [N_global, ...], offset of
    this rank's rows).

    Ranks may hold different N (padding masks, image sizes): the counts are
    exchanged first, a read of ``world size`` integers, the only host-device
    sync of the option on a GPU. Without torch.distributed (or with one rank)
    returns ``(x, 0)``.
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
