"""The rules README and DESIGN promise about the code's structure, checked on the source.

- The engine never imports Qt (or the app): it must run headless, in workers, on a cluster.
- Engine modules import only downwards, by the layer table below: a store never reaches
  up into encoders, a renderer never into retrieval, nothing but the CLI imports the CLI.
- Reading a store's catalog does not load torch (the catalog is SQLite and JSON).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "inret_engine"
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "qtpy", "pyvistaqt", "superqt", "app")

# Each top-level unit of the engine (module or package) and its layer: a unit may import
# units of its own layer or below, never above.
LAYERS = {
    "errors": 0, "device": 0, "progress": 0, "lazy": 0, "functions": 0, "shape_metrics": 0, "helper_process": 0,
    "data": 1, "fields": 1,
    "store": 2,
    "render": 3,
    "fit": 4, "encoders": 4,
    "build": 5, "isolated_fit": 5, "distill": 5, "retrieval": 5,
    "repair": 6, "baselines": 6, "model_set": 6,
    "benchmark": 7, "scale": 7, "query_file": 7, "demo": 7,
    "cli": 8,
}


def _engine_imports() -> list[tuple[str, str, str]]:
    """(file, importing unit, imported module) for every import in the engine."""
    out = []
    for path in sorted(ENGINE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        unit = module.split(".")[1] if "." in module else ""
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    names = [".".join(base + ([node.module] if node.module else []))]
                else:
                    names = [node.module or ""]
            else:
                continue
            out += [(str(path.relative_to(ROOT)), unit, name) for name in names]
    return out


def test_the_engine_never_imports_qt_or_the_app() -> None:
    bad = [(f, name) for f, _, name in _engine_imports() if name.split(".")[0] in QT]
    assert bad == [], f"engine modules importing Qt or the app: {bad}"


def test_engine_imports_run_only_downwards() -> None:
    units = {p.stem if p.is_file() else p.name for p in ENGINE.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    assert units <= set(LAYERS), f"give these units a layer in LAYERS: {sorted(units - set(LAYERS))}"
    upward = []
    for f, unit, name in _engine_imports():
        parts = name.split(".")
        if parts[0] != "inret_engine" or len(parts) < 2 or not unit or parts[1] == unit:
            continue
        if parts[1] in LAYERS and LAYERS[parts[1]] > LAYERS[unit]:
            upward.append(f"{f}: {unit} (layer {LAYERS[unit]}) imports {name} (layer {LAYERS[parts[1]]})")
    assert upward == [], "\n".join(upward)


def test_reading_a_catalog_does_not_load_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from inret_engine.store import Store\n"
        f"Store.create({str(tmp_path / 'S')!r}).close()\n"
        f"with Store.open({str(tmp_path / 'S')!r}) as store:\n"
        "    store.records(); store.catalog.shapes(); store.summary()\n"
        "print(sorted(m for m in ('torch', 'safetensors', 'PySide6') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
