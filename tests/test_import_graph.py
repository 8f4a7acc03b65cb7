"""The layout as the architecture: no import cycle, modules/ never imports Ultralytics, only integration/ reaches into
Ultralytics' internals, and `import yolo_attention` loads no training, export, data or eval code."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "yolo_attention"
# Ultralytics names that are public API even though they live in ultralytics.nn.tasks
PUBLIC_TASKS_NAMES = {"DetectionModel", "PoseModel", "SegmentationModel", "yaml_model_load", "guess_model_scale"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str], bool]]:
    """(module, imported names, at module level) for every import in a file."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                base = (
                    ".".join(
                        _module_name(path).split(".")[: -node.level + (1 if path.name == "__init__.py" else 0) or None]
                    )
                    + "."
                    + node.module
                )
            out.append((base, [a.name for a in node.names], id(node) in top))
    return out


FILES = sorted(PACKAGE.rglob("*.py"))


def test_no_import_cycle_at_module_level():
    graph = {}
    names = {_module_name(f) for f in FILES}
    for f in FILES:
        graph[_module_name(f)] = {m for m, _, top in _imports(f) if top and m in names and m != _module_name(f)}
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for dep in graph.get(node, ()):
            if state.get(dep) == "open" and not node.startswith(dep + "."):  # a package importing its own children
                if not dep.startswith(node + ".") and not node.startswith(dep):
                    raise AssertionError(f"import cycle: {' -> '.join([*stack, node, dep])}")
            elif dep not in state:
                visit(dep, [*stack, node])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [])


def test_modules_never_import_ultralytics():
    for f in (PACKAGE / "modules").rglob("*.py"):
        assert not [m for m, _, _ in _imports(f) if m.split(".")[0] == "ultralytics"], f


def test_only_integration_touches_ultralytics_internals():
    for f in FILES:
        if "integration" in f.parts:
            continue
        for module, names, _ in _imports(f):
            if module in ("ultralytics.nn.tasks", "ultralytics.engine.trainer"):
                internal = set(names) - PUBLIC_TASKS_NAMES
                assert not internal, f"{f}: imports {sorted(internal)} from {module}"
            assert module != "ultralytics.nn", f"{f}: imports ultralytics.nn (tasks internals)"
    for f in (PACKAGE / "integration").rglob("*.py"):
        above = ("training", "export", "data", "eval", "cli", "inference", "arch")
        bad = [m for m, _, _ in _imports(f) if m.startswith("yolo_attention.") and m.split(".")[1] in above]
        assert not bad, f"{f} imports layers above it: {bad}"


def test_import_yolo_attention_loads_no_training_export_data_or_eval():
    """Nor the weight-transfer layer (loaded on the first weight load), nor installed packages' metadata."""
    code = (
        "import sys, json; from importlib import metadata; scans = []; scan = metadata.entry_points;"
        "metadata.entry_points = lambda **kw: scans.append(kw.get('group')) or scan(**kw);"
        "import yolo_attention; loaded = sorted(m for m in sys.modules if m.startswith('yolo_attention'));"
        "print(json.dumps([loaded, scans]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    loaded, scans = json.loads(out.stdout.strip().splitlines()[-1])
    heavy = [
        m
        for m in loaded
        if m.split(".")[1:2] and m.split(".")[1] in ("training", "export", "data", "eval", "cli", "arch")
    ]
    assert not heavy, heavy
    assert "yolo_attention.modules" in loaded and "yolo_attention.integration" in loaded
    assert "yolo_attention.modules" not in scans, "import yolo_attention scanned the installed packages' metadata"


def test_subpackages_load_on_first_attribute_access():
    """The README's ``yolo_attention.training.freeze_indices`` works after a plain ``import yolo_attention``."""
    code = (
        "import sys, yolo_attention; before = 'yolo_attention.training' in sys.modules;"
        "yolo_attention.training.freeze_indices; yolo_attention.explain.explain; print(before)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1] == "False", out.stderr[-2000:]
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()} - {"integration", "modules"}
    import yolo_attention

    assert subpackages <= set(dir(yolo_attention))  # every subpackage is reachable so, and listed
