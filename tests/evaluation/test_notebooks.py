"""The notebooks: stored without outputs, and each runs top to bottom on a small market."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from propensity.lake import Lake
from tests.evaluation.conftest import PRODUCTS, copy_lake

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_exist() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: a cell has stored outputs"
            assert cell["execution_count"] is None, f"{path.name}: a cell was executed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_imports_the_packages_instead_of_copying_code(path: Path) -> None:
    source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                       if c["cell_type"] == "code")
    assert "\ndef " not in source and not source.startswith("def "), \
        f"{path.name} defines functions: put them in a package and import them"
    assert "from evaluation" in source or "from training" in source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_a_small_market(path: Path, eval_lake: Lake, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import ipykernel  # noqa: F401  (the kernel nbclient starts)
        import nbformat
        from nbclient import NotebookClient
    except ImportError as exc:  # fail loudly: CI must run the notebooks, not skip them
        pytest.fail(f"{exc.name} is not installed: notebooks run with nbclient, nbformat and "
                    "ipykernel (pinned in constraints.txt; part of the dev extras)")

    lake = copy_lake(eval_lake, tmp_path / "lake")
    monkeypatch.setenv("PROPENSITY_LAKE", str(lake.root))
    monkeypatch.setenv("PROPENSITY_PRODUCTS", json.dumps(list(PRODUCTS)))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    if path.stem.startswith("03"):
        assert (lake.root / "evaluation" / "2026-06_2026-07" / "index.html").exists()
