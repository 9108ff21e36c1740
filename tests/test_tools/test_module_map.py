"""The package's layering: no import runs up a floor, and every module says
its job in its docstring's first line."""
import importlib.util
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'module_map', osp.join(ROOT, 'tools/analysis_tools/module_map.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_no_import_runs_up_a_floor():
    tool = _tool()
    modules = tool.scan()
    assert len(modules) > 50
    assert tool.violations(modules) == []
    # every package has a floor: a new one must be placed deliberately
    assert {tool.unit(m.name) for m in modules} <= set(tool.FLOORS)


def test_every_module_says_its_job():
    missing = [m.path for m in _tool().scan() if not m.job]
    assert missing == []


def test_an_upward_import_is_reported(tmp_path):
    """The check can fail: the information core importing a model is named,
    relative imports resolved."""
    tool = _tool()
    pkg = tmp_path / 'muse_det'
    (pkg / 'information').mkdir(parents=True)
    (pkg / 'models').mkdir()
    for folder in (pkg, pkg / 'information', pkg / 'models'):
        (folder / '__init__.py').write_text('"""A package."""\n')
    (pkg / 'information' /
     'core.py').write_text('"""Core."""\nfrom ..models import distiller\n')
    (pkg / 'models' / 'distiller.py'
     ).write_text('"""Distiller."""\nfrom muse_det.information import core\n')
    # a floor-0 module imported through the package is no violation
    (pkg / 'errors.py').write_text('"""Errors."""\n')
    (pkg / 'information' /
     'checks.py').write_text('"""Checks."""\nfrom muse_det import errors\n')
    bad = tool.violations(tool.scan(str(tmp_path)))
    assert bad == [
        'muse_det/information/core.py: imports muse_det.models (floor 2) '
        'from floor 1'
    ]
    assert tool.main(['--check']) == 0
