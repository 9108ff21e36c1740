"""Print muse-det's module map: each module's floor, its job (the first
sentence of its docstring) and the muse-det packages it imports; report every
import that runs up a floor.

    python tools/analysis_tools/module_map.py            # the map
    python tools/analysis_tools/module_map.py --check  # exit 1 on a violation

Floors, lowest first (a module may import its own package and any package on a
lower floor, never one beside or above it):

0. ``errors``, ``version``, ``registry``: declarations every layer uses
1. ``information`` (pure PyTorch) and ``checkpoint`` (safe reading, atomic
   writing)
2. ``models`` and ``datasets``
3. ``evaluation`` (metrics read what models produce)
4. ``engine`` (hooks and optimiser wrappers drive models)
5. ``utils`` (what the tools use: config checks, launching)
6. ``muse_det`` itself (``__init__`` imports the packages that register)
"""
import argparse
import ast
import os
import os.path as osp
import re
import sys
from typing import Dict, List, NamedTuple, Set

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = 'muse_det'
FLOORS = {
    'errors': 0,
    'version': 0,
    'registry': 0,
    'information': 1,
    'checkpoint': 1,
    'models': 2,
    'datasets': 2,
    'evaluation': 3,
    'engine': 4,
    'utils': 5,
    '': 6,
}


class Module(NamedTuple):
    name: str  # dotted, e.g. muse_det.information.sampling
    path: str
    job: str  # first sentence of the module docstring, '' if none
    imports: Set[str]  # dotted muse_det modules imported


def unit(module: str) -> str:
    """The floor unit of a dotted module name: ``muse_det.information.x`` ->
    ``information``; ``muse_det`` -> ``''``."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def _imports(tree: ast.AST, package: str) -> Set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {
                a.name
                for a in node.names if a.name.split('.')[0] == PACKAGE
            }
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) -
                                          node.level + 1]
                target = '.'.join(base +
                                  ([node.module] if node.module else []))
            else:
                target = node.module or ''
            if target == PACKAGE:
                # ``from muse_det import errors`` imports muse_det.errors
                found |= {f'{PACKAGE}.{a.name}' for a in node.names}
            elif target.split('.')[0] == PACKAGE:
                found.add(target)
    return found


def first_sentence(doc: str) -> str:
    """The first sentence of a docstring's first paragraph, on one line."""
    paragraph = ' '.join(doc.strip().split('\n\n')[0].split())
    # a full stop followed by a space ends it; 'et al. ' does not
    end = re.search(r'(?<!\bal)\.\s', paragraph)
    return paragraph if end is None else paragraph[:end.start() + 1]


def scan(root: str = ROOT) -> List[Module]:
    """Every module of the package, parsed (nothing is imported).

    Args:
        root (str): the repository root.

    Returns:
        list[Module]: sorted by name.
    """
    modules = []
    for folder, _, files in os.walk(osp.join(root, PACKAGE)):
        for file in files:
            if not file.endswith('.py'):
                continue
            path = osp.join(folder, file)
            rel = osp.relpath(path, root)[:-3].replace(os.sep, '.')
            is_init = file == '__init__.py'
            name = rel[:-len('.__init__')] if is_init else rel
            package = name if is_init else name.rsplit('.', 1)[0]
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            modules.append(
                Module(name, osp.relpath(path, root),
                       first_sentence(ast.get_docstring(tree) or ''),
                       _imports(tree, package)))
    return sorted(modules)


def violations(modules: List[Module]) -> List[str]:
    """Imports that run up a floor or sideways into another package of the
    same floor.

    Args:
        modules (list[Module]): from :func:`scan`.

    Returns:
        list[str]: one line per violation; empty when the layering holds.
    """
    found = []
    for m in modules:
        own = unit(m.name)
        for target in sorted(m.imports):
            other = unit(target)
            if other == own or other not in FLOORS:
                continue
            if FLOORS[other] >= FLOORS[own]:
                found.append(f'{m.path}: imports {target} (floor '
                             f'{FLOORS[other]}) from floor {FLOORS[own]}')
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--check',
        action='store_true',
        help='print only violations; exit 1 if there is any')
    args = parser.parse_args(argv)
    modules = scan()
    if not args.check:
        print('| floor | module | job | imports (muse-det packages) |')
        print('|---:|---|---|---|')
        for m in sorted(modules, key=lambda m: (FLOORS[unit(m.name)], m.name)):
            deps: Dict[str, None] = dict.fromkeys(
                sorted({unit(t) or PACKAGE
                        for t in m.imports} - {unit(m.name)}))
            print(f'| {FLOORS[unit(m.name)]} | `{m.name}` | {m.job} | '
                  f'{", ".join(deps) or "-"} |')
    bad = violations(modules)
    for line in bad:
        print('upward import:', line, file=sys.stderr)
    print(f'{len(modules)} modules, {len(bad)} upward imports')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
