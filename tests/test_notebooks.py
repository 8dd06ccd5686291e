"""Every notebook in notebooks/ runs top to bottom on a small sweep."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from _report_fixtures import write_sweep

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("nb") / "sweep",
                       [("baseline", {}), ("march_2025", {}), ("incident_spike", {})],
                       worlds=200, horizon_weeks=104)


def test_there_are_notebooks_and_they_are_committed_without_outputs():
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, small_sweep, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    # relative, as an analyst types it: taken from the kernel's working directory
    relative = os.path.relpath(small_sweep, tmp_path)
    monkeypatch.setenv("PEACE_SIM_SWEEP", relative)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.get("output_type") == "error"]
    assert not errors
    assert len(images) >= 2, f"{path.name} drew {len(images)} figures"
    assert not list(tmp_path.iterdir()) or all(p.name.startswith(".") for p in
                                                tmp_path.iterdir())
    assert os.environ["PEACE_SIM_SWEEP"] == relative


def test_latest_sweep_is_the_last_finished_one_and_its_absence_says_what_to_run(tmp_path):
    from sim.experiment.runs import latest_sweep

    with pytest.raises(FileNotFoundError, match=r"^no finished sweep under .*make run"):
        latest_sweep(tmp_path)
    sweeps = tmp_path / "results" / "sweeps"
    older, newer, unfinished = (sweeps / "2026-01-02" / "09-00-00", sweeps / "all_scenarios",
                                sweeps / "2026-01-03" / "10-00-00")
    for folder in (older, newer, unfinished):
        (folder / "0").mkdir(parents=True)
    (older / "sweep_summary.csv").write_text("job\n0\n")
    (newer / "sweep_summary.csv").write_text("job\n0\n")
    os.utime(older / "sweep_summary.csv", ns=(2_000_000_000 * 10**9,) * 2)
    os.utime(newer / "sweep_summary.csv", ns=(1_000_000_000 * 10**9,) * 2)
    assert latest_sweep(tmp_path) == older          # by when it finished, not by name
    os.utime(newer / "sweep_summary.csv", ns=(3_000_000_000 * 10**9,) * 2)
    assert latest_sweep(str(tmp_path)) == newer     # unfinished sweeps never count


def test_chosen_sweep_resolves_a_relative_path_from_the_working_directory(
        tmp_path, monkeypatch):
    from sim.experiment import config
    from sim.experiment.runs import chosen_sweep
    from sim.viz.report import ReportInputError, load_sweep

    checkout, elsewhere = tmp_path / "checkout", tmp_path / "elsewhere"
    mine = checkout / "results" / "sweeps" / "mine"
    (mine / "0").mkdir(parents=True)
    elsewhere.mkdir()
    monkeypatch.setattr(config, "output_root", lambda: checkout)
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("PEACE_SIM_SWEEP", "results/sweeps/mine")
    assert chosen_sweep() == mine.resolve()
    # from another folder (a kernel in notebooks/), the checkout's results/ is used
    monkeypatch.chdir(elsewhere)
    assert chosen_sweep() == mine.resolve()
    assert chosen_sweep(str(mine)) == mine.resolve()
    with pytest.raises(FileNotFoundError, match=r"^sweep folder results/sweeps/nope not "
                       r"found \(looked in .*elsewhere/results/sweeps/nope or "):
        chosen_sweep("results/sweeps/nope")
    # a folder that does not exist is not called "not a sweep folder"
    with pytest.raises(ReportInputError, match="no such folder"):
        load_sweep("results/sweeps/nope")
