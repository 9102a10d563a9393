"""Layering: providers, render, events and the project store never reach up into the Dagster
definitions, the launch path or the code location (directly, inside a function, or through what
they import at load time)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOWER = ("pipeline/providers", "pipeline/render", "pipeline/events", "pipeline/rules", "pipeline/store.py")
UPPER = ("pipeline.defs", "pipeline.launch", "pipeline.definitions")
EXTRA = {"pipeline/events": ("pipeline.storage",)}  # the projection is below the storage classes that host it


def _files() -> list[Path]:
    found: list[Path] = []
    for entry in LOWER:
        path = ROOT / entry
        found += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return found


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement names, at the top or inside a function."""
    names: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: against this file's package
                package = _module(path).split(".")
                package = package[: len(package) - node.level + (1 if path.name == "__init__.py" else 0)]
                base = ".".join([*package, *([base] if base else [])])
            names.append((node.lineno, base))
            names += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]  # `from pipeline import defs`
    return names


def _forbidden(path: Path) -> tuple[str, ...]:
    rel = path.relative_to(ROOT).as_posix()
    return UPPER + sum((more for prefix, more in EXTRA.items() if rel.startswith(prefix)), ())


def _reaches(name: str, targets: tuple[str, ...]) -> bool:
    return any(name == t or name.startswith(t + ".") for t in targets)


def test_lower_layers_import_nothing_above_them():
    bad = [f"{p.relative_to(ROOT)}:{line}: {name}" for p in _files()
           for line, name in _imported(p) if _reaches(name, _forbidden(p))]
    assert not bad, "imports that reach up a layer:\n" + "\n".join(bad)


def test_importing_the_lower_layers_loads_nothing_above_them():
    modules = sorted({_module(p) for p in _files()})
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith({UPPER!r}))))")
    result = subprocess.run([sys.executable, "-B", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"loaded by importing the lower layers:\n{result.stdout}"
