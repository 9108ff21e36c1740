"""Every public class and function of the package documents its API in
mmengine's style: a docstring, ``Args:`` for whatever it takes."""
import ast
import os
import os.path as osp
from typing import List, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _params(fn: ast.FunctionDef) -> List[str]:
    a = fn.args
    names = [
        x.arg for x in a.posonlyargs + a.args + a.kwonlyargs
        if x.arg not in ('self', 'cls')
    ]
    return names + [x.arg for x in (a.vararg, a.kwarg) if x is not None]


def _is_public(name: str) -> bool:
    return not name.startswith('_') or name == '__call__'


def undocumented(source: str) -> List[Tuple[str, str]]:
    """(object, problem) for each public object of a module's source that
    lacks a docstring, or takes arguments its docstring has no ``Args:``
    for."""
    found = []

    def check(fn, owner=''):
        if not _is_public(fn.name):
            return
        doc = ast.get_docstring(fn)
        if not doc:
            found.append((owner + fn.name, 'no docstring'))
        elif _params(fn) and 'Args:' not in doc:
            found.append((owner + fn.name, 'no Args:'))

    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            check(node)
        elif isinstance(node, ast.ClassDef) and _is_public(node.name):
            doc = ast.get_docstring(node)
            init = next(
                (n for n in node.body
                 if isinstance(n, ast.FunctionDef) and n.name == '__init__'),
                None)
            if not doc:
                found.append((node.name, 'no docstring'))
            elif init is not None and _params(init) and not (
                    'Args:' in doc or 'Attributes:' in doc):
                found.append((node.name, 'constructor without Args:'))
            for n in node.body:
                if isinstance(n, ast.FunctionDef) and n.name != '__init__':
                    check(n, node.name + '.')
    return found


def test_the_check_finds_what_is_missing():
    source = ('def f(x):\n    """Does f."""\n'
              'class A:\n    """An A."""\n'
              '    def __init__(self, y):\n        pass\n'
              '    def g(self):\n        pass\n'
              '    def _private(self, z):\n        pass\n'
              'def h():\n    """No arguments, no Args: needed."""\n')
    assert undocumented(source) == [('f', 'no Args:'),
                                    ('A', 'constructor without Args:'),
                                    ('A.g', 'no docstring')]


def test_every_public_object_is_documented():
    missing = []
    for folder, _, files in os.walk(osp.join(ROOT, 'muse_det')):
        for file in sorted(files):
            if file.endswith('.py'):
                path = osp.join(folder, file)
                with open(path) as f:
                    missing += [(osp.relpath(path, ROOT), *problem)
                                for problem in undocumented(f.read())]
    assert missing == []
