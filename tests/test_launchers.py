"""Sweeps under the Ray and submitit launchers give the basic launcher's numbers.

These need the optional extras (`pip install -e ".[ray,slurm]"`, which `make test`
installs); without them they are skipped, naming the missing extra. The Ray test also
checks that no process of the sweep listens beyond the loopback interface.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

SIM_RUN = str(Path(sys.executable).with_name("sim-run"))
SWEEP = ["-m", "scenario=baseline,us_disengages", "worlds=2000", "horizon_weeks=52",
         "seed=11", "quiet=true"]
ESTIMATES = ["job", "scenario", "worlds", "seed", "p_sign", "ci_low", "ci_high",
             "p_sign_12m", "share_signed", "share_escalation", "share_government_fell",
             "share_stalemate", "median_weeks_to_sign", "diff_vs_baseline", "diff_ci_low",
             "diff_ci_high"]


def _needs(module: str, extra: str):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f"the `{extra}` extra is not installed "
                                     f"(pip install -e \".[{extra}]\")")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    return env


def _is_loopback(host: str) -> bool:
    ip = ipaddress.ip_address(host.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _listening(procs) -> list[tuple[str, str, int]]:
    """(process name, host, port) of every listening TCP socket of ``procs``."""
    import psutil

    out = []
    for p in procs:
        try:
            conns = p.net_connections(kind="tcp")
            name = p.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        out += [(name, c.laddr.ip, c.laddr.port) for c in conns
                if c.status == psutil.CONN_LISTEN]
    return out


def run_sweep(sweep_dir: Path, *extra: str, watch: bool = False) -> dict:
    """Run the sweep; with ``watch``, record every listening socket of its processes."""
    argv = [SIM_RUN, *SWEEP, f"hydra.sweep.dir={sweep_dir}", *extra]
    proc = subprocess.Popen(argv, cwd=sweep_dir.parent, env=_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: dict[int, object] = {}
    sockets: set[tuple[str, str, int]] = set()
    if watch:
        import psutil

        root = psutil.Process(proc.pid)
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                kids = root.children(recursive=True)
            except psutil.NoSuchProcess:
                break
            for k in kids:
                seen.setdefault(k.pid, k)
            sockets |= set(_listening([root, *kids]))
            time.sleep(0.2)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return {"stdout": out, "stderr": err, "sockets": sockets, "procs": list(seen.values())}


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory) -> Path:
    sw = tmp_path_factory.mktemp("basic") / "sweep"
    run_sweep(sw)
    return sw


def assert_same_numbers(a_dir: Path, b_dir: Path) -> None:
    a = pd.read_csv(a_dir / "sweep_summary.csv")
    b = pd.read_csv(b_dir / "sweep_summary.csv")
    assert len(a) == 2 and (a["status"] == "done").all() and (b["status"] == "done").all()
    assert list(a["scenario"]) == ["baseline", "us_disengages"]
    assert a["p_sign"].between(0.0, 1.0).all() and a["p_sign"].nunique() == 2
    pd.testing.assert_frame_equal(a[ESTIMATES], b[ESTIMATES])
    for job in (0, 1):
        sa = json.loads((a_dir / str(job) / "summary.json").read_text())
        sb = json.loads((b_dir / str(job) / "summary.json").read_text())
        for key in ("p_sign", "ci_low", "ci_high", "outcome_shares", "signed",
                    "median_weeks_to_sign", "p_escalation"):
            assert sa[key] == sb[key], key
        pd.testing.assert_frame_equal(pd.read_parquet(a_dir / str(job) / "worlds.parquet"),
                                      pd.read_parquet(b_dir / str(job) / "worlds.parquet"))


@pytest.mark.ray
@pytest.mark.slow
@_needs("hydra_plugins.hydra_ray_launcher", "ray")
def test_ray_launcher_gives_the_basic_launchers_numbers_on_loopback_only(basic_sweep,
                                                                         tmp_path):
    import psutil

    sw = tmp_path / "sweep"
    res = run_sweep(sw, "hydra/launcher=ray", watch=True)
    assert "Started a local Ray instance" in res["stderr"]
    assert_same_numbers(basic_sweep, sw)
    names = {name for name, _, _ in res["sockets"]}
    assert any("raylet" in n or "gcs" in n for n in names), \
        f"the watch saw no Ray service listening: {sorted(names)}"
    wide = sorted(s for s in res["sockets"] if not _is_loopback(s[1]))
    assert not wide, f"listening beyond 127.0.0.1: {wide}"
    # and once the sweep is over, nothing it started is left running (or listening)
    deadline = time.monotonic() + 60
    alive = [p for p in res["procs"] if p.is_running()]
    while alive and time.monotonic() < deadline:
        time.sleep(0.5)
        alive = [p for p in alive if p.is_running()
                 and p.status() != psutil.STATUS_ZOMBIE]
    assert not _listening(alive), "a process of the sweep still listens"
    assert not alive, f"still running after the sweep: {[p.name() for p in alive]}"


@pytest.mark.submitit
@pytest.mark.slow
@_needs("hydra_plugins.hydra_submitit_launcher", "slurm")
def test_submitit_local_launcher_gives_the_basic_launchers_numbers(basic_sweep, tmp_path):
    sw = tmp_path / "sweep"
    run_sweep(sw, "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10")
    assert (sw / ".submitit").is_dir()  # the jobs really went through submitit
    assert_same_numbers(basic_sweep, sw)


@_needs("hydra_plugins.hydra_submitit_launcher", "slurm")
@_needs("hydra_plugins.hydra_ray_launcher", "ray")
def test_launcher_configs_compose_with_local_defaults():
    from sim.cli.compose import hydra_compose

    with warnings.catch_warnings():  # configs/hydra/launcher/ray.yaml replaces the plugin's
        warnings.filterwarnings("ignore", message=r"(?s).*validated against ConfigStore schema")
        ray = hydra_compose(["hydra/launcher=ray"]).hydra.launcher
    assert ray.ray.init.address is None and ray.ray.init.include_dashboard is False
    assert ray.ray.remote.num_cpus == 1
    assert ray._target_.startswith("hydra_plugins.hydra_ray_launcher.")
    slurm = hydra_compose(["hydra/launcher=submitit_slurm",
                           "hydra.launcher.partition=cpu"]).hydra.launcher
    assert slurm.partition == "cpu" and "SlurmLauncher" in slurm._target_
