"""The layers stay visible: import-linter's contracts (.importlinter) hold.

cli -> ops -> repo -> engine -> model -> (fsutil, output, proc) -> errors, and
nothing below the command line imports click.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_layers_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    r = subprocess.run([exe, "--config", str(ROOT / ".importlinter")], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "3 kept, 0 broken" in r.stdout


def test_no_output_or_exit_code_below_the_command_line() -> None:
    """Ops and repo emit typed events and return outcomes (f5quilt/events.py): no Reporter,
    no exit code, no print or write to the process's streams (issue 19's check)."""
    import ast
    import re

    found = []
    for path in sorted([*(ROOT / "f5quilt/ops").rglob("*.py"), *(ROOT / "f5quilt/repo").rglob("*.py")]):
        text = path.read_text()
        for m in re.finditer(r"\bReporter\b|\bEXIT_[A-Z]+\b|\bexit_code=", text):
            found.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: print(")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr") \
                    and isinstance(node.value, ast.Name) and node.value.id == "sys":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: sys.{node.attr}")
    assert not found, "\n".join(found)


def _ops_imports() -> "dict[str, set[str]]":
    """Each module of f5quilt/ops and the ops modules it imports, at any depth of its code
    (an import inside a function counts: it may hide a cycle)."""
    import ast

    ops = ROOT / "f5quilt" / "ops"
    mods = {str(p.relative_to(ROOT).with_suffix("")).replace("/", ".").removesuffix(".__init__"): p
            for p in ops.rglob("*.py")}
    graph: "dict[str, set[str]]" = {m: set() for m in mods}
    for mod, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                base = node.module
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            graph[mod] |= {n for n in names if n in mods and n != mod and n != "f5quilt.ops"}
    return graph


def test_no_import_cycle_among_the_ops() -> None:
    """Issue 19: function-level imports in ops/ are for start-up time only (a command
    imports what it runs), never to hide a cycle: the ops import graph, every import
    counted, has none."""
    graph = _ops_imports()
    seen: "dict[str, int]" = {}
    stack: "list[str]" = []

    def visit(mod: str) -> None:
        seen[mod] = 1
        stack.append(mod)
        for dep in sorted(graph[mod]):
            if seen.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(dep):] + [dep]))
            if dep not in seen:
                visit(dep)
        stack.pop()
        seen[mod] = 2

    for mod in sorted(graph):
        if mod not in seen:
            visit(mod)


def test_no_private_name_crosses_a_module() -> None:
    """A name with a leading underscore stays in its module: what another module needs is
    public (issue 19 found four of authoring's imported elsewhere)."""
    import ast

    found = []
    for path in sorted((ROOT / "f5quilt").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("f5quilt"):
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert not found, "\n".join(found)


def test_the_command_line_plants_nothing_in_other_modules() -> None:
    """No process globals (issue 19): no module sets an attribute of another module (the
    terminal's progress bar was ``output.progress_hook = ...``, set by the command line and
    read in repo/: now passed through the workspace to each Upstream), and nothing changes
    the process's working folder (``os.chdir``)."""
    import ast

    found = []
    for path in sorted((ROOT / "f5quilt").rglob("*.py")):
        tree = ast.parse(path.read_text())
        modules = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                   for a in node.names}
        modules |= {a.asname or a.name for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module
                    for a in node.names if a.name.islower() and node.module in ("f5quilt", "f5quilt.repo",
                                                                                "f5quilt.ops", "f5quilt.engine")}
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in modules:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {t.value.id}.{t.attr} = ...")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "chdir":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: chdir")
    assert not found, "\n".join(found)


def test_each_import_inside_a_function_in_ops_says_why() -> None:
    """Issue 19: an import left inside a function says why in a comment (``# lazy: start-up``:
    the commands that never call the function do not load the module; none hides a cycle,
    ``test_no_import_cycle_among_the_ops``)."""
    import ast

    bare = []
    for path in sorted((ROOT / "f5quilt/ops").rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for fn in ast.walk(ast.parse(text)):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and "#" not in lines[node.end_lineno - 1]:
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bare, "\n".join(bare)


def test_event_records_are_built_without_dataclasses() -> None:
    """Every command that runs an op imports events.py: its ~55 record classes built by
    @dataclass(frozen=True) cost each process 24 ms of start-up (0.45 ms a class, measured),
    by record.py's @record 3 ms. Found when the kill harness, which starts hundreds of
    processes, slowed CI by two minutes."""
    from f5quilt import events as ev
    built = [c.__name__ for c in vars(ev).values()
             if isinstance(c, type) and c.__module__ == ev.__name__ and hasattr(c, "__dataclass_fields__")]
    assert built == []
