"""Record named intermediate outputs of an unmodified model with forward
hooks."""
import difflib
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence

import torch
from torch import nn

_NAME_RE = re.compile(r'^(?P<path>\w+(?:\.\w+)*)(?:@(?P<call>\d+))?'
                      r'(?P<index>(?:\[-?\d+\])*)$')


@dataclass(frozen=True)
class FeatureSpec:
    """A parsed feature name: the ``path`` of a submodule, the optional
    ``call`` of a module that runs several times per forward, and optional
    ``indices`` into its output.

    ``'neck.fpn_convs.0'`` records that module's output; ``'neck[2]'`` the
    third element of the neck's tuple output (an FPN level); ``'backbone[-1]'``
    the last backbone stage; ``'bbox_head.cls_convs.1@2'`` the output of the
    third call of a module shared across levels (a detection head's tower
    conv on the third FPN level). Build one with :meth:`parse`.

    Args:
        name (str): the name as written, e.g. ``'bbox_head.cls_convs.1@2'``.
        path (str): dotted path of the submodule in
            ``model.named_modules()``, e.g. ``'bbox_head.cls_convs.1'``.
        indices (tuple[int]): indices applied in turn to the module's
            (nested tuple/list) output; ``()`` for a tensor output.
        call (int, optional): which call (from 0) of a module that runs
            several times per forward; ``None``: the module must run once.
            Defaults to None.
    """
    name: str
    path: str
    indices: tuple
    call: Optional[int] = None

    @classmethod
    def parse(cls, name: str) -> 'FeatureSpec':
        """Parse a feature name ``path[@call][i][j]...``.

        Args:
            name (str): e.g. ``'backbone.layer2'``, ``'neck[0]'`` or
                ``'bbox_head.cls_convs.1@0'``; surrounding blanks are
                ignored.

        Returns:
            FeatureSpec: the parsed name.

        Raises:
            ValueError: ``name`` is not a string or does not parse.
        """
        if not isinstance(name, str):
            raise ValueError(
                f'feature names must be strings such as "backbone.layer1" or '
                f'"neck[0]", got {name!r} ({type(name).__name__})')
        m = _NAME_RE.match(name.strip())
        if m is None:
            raise ValueError(
                f'cannot parse feature name {name!r}: use a dotted module '
                'path, optionally followed by [i] to pick an element of a '
                'tuple output, and @k for the k-th call (from 0) of a module '
                'that runs several times, e.g. "backbone.layer2", "neck[0]", '
                '"neck.fpn_convs.1", "bbox_head.cls_convs.1@0"')
        indices = tuple(
            int(i) for i in re.findall(r'\[(-?\d+)\]', m.group('index')))
        call = m.group('call')
        return cls(
            name=name.strip(),
            path=m.group('path'),
            indices=indices,
            call=None if call is None else int(call))


def closest_names(name: str,
                  candidates: Iterable[str],
                  n: int = 8) -> List[str]:
    """The candidates most similar to ``name``, best first (for the "did you
    mean" hints of error messages).

    Args:
        name (str): the misspelt name.
        candidates (Iterable[str]): the valid names.
        n (int): at most this many are returned. Defaults to 8.

    Returns:
        list[str]: up to ``n`` candidates, most similar first.
    """
    candidates = list(candidates)
    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.0)
    return close[:n]


def _module_names(model: nn.Module) -> List[str]:
    return [n for n, _ in model.named_modules() if n]


class FeatureRecorder:
    """Captures the outputs of named submodules of ``model`` during a forward
    pass.

    Hooks exist only inside ``with recorder:``; leaving the block removes them
    and clears the buffer, so no tensor outlives its step. A recorded tensor
    modified in place after capture (e.g. by a following
    ``ReLU(inplace=True)``) is detected through its version counter and
    reported instead of silently feeding wrong values to the loss;
    ``clone=True`` copies outputs at capture time instead.

    Args:
        model (nn.Module): the model whose submodules are hooked (never
            modified).
        names (Sequence[str]): feature names, see :class:`FeatureSpec`.
        clone (bool): copy each captured tensor (costs memory; only needed
            when a later op modifies the output in place). Defaults to False.

    Raises:
        ValueError: a name does not parse, or names no submodule of
            ``model`` (the message lists the closest valid names).

    Examples:
        >>> recorder = FeatureRecorder(detector, ['backbone.layer1'])
        >>> with recorder:
        ...     detector.extract_feat(inputs)  # inputs: (B, 3, H, W)
        ...     feat = recorder.get('backbone.layer1')  # (B, C, H/4, W/4)
    """

    def __init__(self,
                 model: nn.Module,
                 names: Sequence[str],
                 clone: bool = False):
        self.model = model
        self.clone = clone
        self.specs: Dict[str, FeatureSpec] = {}
        modules = dict(model.named_modules())
        for name in names:
            spec = FeatureSpec.parse(name)
            if spec.path not in modules or not spec.path:
                valid = _module_names(model)
                hint = ', '.join(closest_names(spec.path, valid))
                raise ValueError(
                    f'unknown feature {name!r}: the model has no submodule '
                    f'{spec.path!r}. Closest valid module names: {hint}. Use '
                    'a dotted path from model.named_modules(), with [i] to '
                    'index a tuple output (e.g. "neck[0]").')
            self.specs[spec.name] = spec
        self._modules = {
            p: modules[p]
            for p in {s.path
                      for s in self.specs.values()}
        }
        self._handles: list = []
        self._outputs: Dict[str, object] = {}
        self._calls: Dict[str, int] = {}
        self._captured: Dict[str, tuple] = {}

    @property
    def names(self) -> List[str]:
        """list[str]: the recorded feature names, in the order given."""
        return list(self.specs)

    def _make_hook(self, path: str):
        specs = [s for s in self.specs.values() if s.path == path]

        def hook(module, inputs, output):
            call = self._calls.get(path, 0)
            self._calls[path] = call + 1
            self._outputs.setdefault(path, []).append(output)
            # Snapshot version counters now: an in-place op later in the
            # forward bumps them.
            for spec in specs:
                if (spec.call or 0) != call:
                    continue
                try:
                    t = self._select(spec)
                except (ValueError, RuntimeError):
                    continue  # reported with full context by get()
                self._captured[spec.name] = (t.clone() if self.clone else t,
                                             t._version)

        return hook

    def __enter__(self) -> 'FeatureRecorder':
        self._clear()
        for path, module in self._modules.items():
            self._handles.append(
                module.register_forward_hook(self._make_hook(path)))
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self._clear()

    def all_ran(self) -> bool:
        """Whether every recorded module ran in the current forward pass.

        Returns:
            bool: True if each hooked module ran at least once since the
            ``with`` block was entered (or since :meth:`reset`).
        """
        return all(path in self._calls for path in self._modules)

    def reset(self) -> None:
        """Forget the current forward pass (the hooks stay)."""
        self._clear()

    def _clear(self) -> None:
        self._outputs = {}
        self._calls = {}
        self._captured = {}

    def _select(self, spec: FeatureSpec) -> torch.Tensor:
        if spec.path not in self._outputs:
            raise RuntimeError(
                f'feature {spec.name!r} was not recorded: module '
                f'{spec.path!r} did not run in this forward pass. Record a '
                'module on the path of the loss/forward computation.')
        calls = self._calls[spec.path]
        if spec.call is None and calls > 1:
            raise RuntimeError(
                f'module {spec.path!r} ran {calls} times in one forward pass '
                '(shared across levels or iterations), so its output is '
                'ambiguous. Pick a call with @k (k = 0..'
                f'{calls - 1}), e.g. "{spec.path}@0", or record a module '
                'that runs once per forward, e.g. the neck output "neck[i]".')
        if spec.call is not None and spec.call >= calls:
            raise RuntimeError(
                f'feature {spec.name!r}: module {spec.path!r} ran {calls} '
                f'time(s) in this forward pass, so it has no call '
                f'@{spec.call}; use @0..@{calls - 1}.')
        out = self._outputs[spec.path][spec.call or 0]
        for depth, i in enumerate(spec.indices):
            if not isinstance(out, (tuple, list)):
                where = ''.join(f'[{j}]' for j in spec.indices[:depth])
                raise ValueError(
                    f'feature {spec.name!r}: the output of {spec.path!r}'
                    f'{where} is a {type(out).__name__}, not a tuple/list; '
                    f'drop the [{i}] index.')
            if not -len(out) <= i < len(out):
                raise ValueError(
                    f'feature {spec.name!r}: index [{i}] is out of range, the '
                    f'output of {spec.path!r} has {len(out)} elements (valid: '
                    f'0..{len(out) - 1}).')
            out = out[i]
        if isinstance(out, (tuple, list)):
            raise ValueError(
                f'feature {spec.name!r}: the output of {spec.path!r} is a '
                f'{type(out).__name__} of {len(out)} elements; pick one with '
                f'an index, e.g. "{spec.name}[0]".')
        if not isinstance(out, torch.Tensor):
            raise ValueError(
                f'feature {spec.name!r}: the output of {spec.path!r} is a '
                f'{type(out).__name__}, not a tensor.')
        return out

    def module_output(self, path: str):
        """The raw output of a hooked module in the current forward pass.

        Args:
            path (str): dotted path of a hooked module (the ``path`` of a
                recorded :class:`FeatureSpec`), e.g. ``'neck'``.

        Returns:
            Tensor | tuple | list | None: the output of the module's first
            call (e.g. a tuple of FPN levels, each ``(B, C, H_l, W_l)``), or
            ``None`` if it did not run.
        """
        outputs = self._outputs.get(path)
        return outputs[0] if outputs else None

    def get(self, name: str) -> torch.Tensor:
        """The recorded output for ``name`` in the current forward pass.

        Args:
            name (str): a recorded feature name (one of :attr:`names`).

        Returns:
            Tensor: the module output the name selects, as the module
            produced it, e.g. ``(B, C, H, W)`` for a feature map or
            ``(B, C)`` for a vector.

        Raises:
            KeyError: ``name`` is not recorded.
            RuntimeError: the module did not run, ran several times without
                an ``@k`` call, or its output was modified in place after
                capture (with ``clone=False``).
            ValueError: the indices do not select a tensor of the output.
        """
        if name not in self.specs:
            raise KeyError(
                f'{name!r} is not recorded; recorded features: {self.names}')
        spec = self.specs[name]
        self._select(
            spec
        )  # raises the precise error if the module did not run or was shared
        t, version = self._captured[name]
        if not self.clone and t._version != version:
            raise RuntimeError(
                f'feature {name!r} was modified in place after it was '
                'recorded (e.g. by a following ReLU(inplace=True)), so it no '
                'longer holds the module output. Record the module after the '
                'in-place op, or build the distiller with '
                'recorder_clone=True.')
        return t

    def get_all(self) -> Dict[str, torch.Tensor]:
        """Every recorded feature of the current forward pass.

        Returns:
            dict[str, Tensor]: name -> :meth:`get` of that name.
        """
        return {name: self.get(name) for name in self.specs}
