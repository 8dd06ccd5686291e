"""The wheel carries its own defaults; the lock file pins what pyproject.toml names."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_configs_folder_is_a_listed_package():
    """A new folder under configs/ must be listed, or the wheel would leave it out."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    folders = {"sim.configs." + ".".join(p.relative_to(REPO / "configs").parts)
               for p in (REPO / "configs").rglob("*") if p.is_dir()
               and not p.name.startswith((".", "__"))}
    assert folders - listed == set()
    code = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "sim").rglob("__init__.py")}
    assert code - listed == set()


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_runs_the_baseline_outside_the_checkout(tmp_path):
    # Build from a copy of what the wheel is made of: the build writes build/ and
    # *.egg-info next to the sources, which must not touch the checkout.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("sim", "configs"):
        shutil.copytree(REPO / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    dist = tmp_path / "dist"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    built = _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
                  "--no-index", "-q", "-w", str(dist)], src, env)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("peace_sim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.removeprefix("sim/configs/") for n in names if n.startswith("sim/configs/")}
    assert shipped == {p.relative_to(REPO / "configs").as_posix()
                       for p in [*(REPO / "configs").rglob("*.yaml"),
                                 *(REPO / "configs" / "posteriors").glob("*.csv")]}

    # A fresh venv with the wheel; the dependencies come from this test's environment
    # through a .pth line (no network), appended after the new venv's own site-packages.
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    assert made.returncode == 0, made.stderr
    vpy = venv / "bin" / "python"
    site = Path(_run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     tmp_path, env).stdout.strip())
    installed = _run([sys.executable, "-m", "pip", "--python", str(vpy), "install", "--no-deps",
                      "--no-index", "-q", str(wheel)], tmp_path, env)
    assert installed.returncode == 0, installed.stderr[-3000:]
    (site / "test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "work"     # outside the checkout, no configs/ in sight
    work.mkdir()
    probe = _run([str(vpy), "-c", "import json, sim, sim.experiment.config; print(json.dumps("
                  "[sim.__file__, str(sim.experiment.config.CONFIG_DIR), "
                  "str(sim.experiment.config.output_root())]))"],
                 work, env)
    assert probe.returncode == 0, probe.stderr
    module, config_dir, root = map(Path, json.loads(probe.stdout))
    assert module.is_relative_to(site)
    assert Path(config_dir) == site / "sim" / "configs"
    assert (Path(config_dir) / "scenario" / "baseline.yaml").is_file()
    assert Path(root) == work

    ran = _run([str(venv / "bin" / "sim-run"), "worlds=2000", "seed=0", "quiet=true"], work, env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    summaries = list((work / "results" / "runs").rglob("summary.json"))
    assert len(summaries) == 1, ran.stdout
    assert not list(site.rglob("summary.json"))
    p_sign = json.loads(summaries[0].read_text())["p_sign"]

    from sim import load_params, simulate
    assert p_sign == pytest.approx(simulate(load_params(), 2000, 0).summary()["p_sign"],
                                   abs=1e-12)


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_lock_pins_every_dependency_pyproject_names_within_its_range():
    """requirements/test.lock (``make lock``) and pyproject.toml cannot drift apart."""
    from packaging.requirements import Requirement

    lock_text = (REPO / "requirements" / "test.lock").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", lock_text, flags=re.M))
    pins = {_name(k): v for k, v in pins.items()}
    project = PYPROJECT["project"]
    named = list(project["dependencies"])
    for extra, reqs in project["optional-dependencies"].items():
        assert f"--extra {extra}" in lock_text.splitlines()[1], f"lock made without {extra}"
        named += reqs
    assert len(named) > 20
    for text in named:
        req = Requirement(text)
        name = _name(req.name)
        assert name in pins, f"{name} is not pinned in requirements/test.lock (run make lock)"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"{name}=={pins[name]} in the lock is outside pyproject.toml's {req.specifier}"
