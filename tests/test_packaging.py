"""The wheel is the product: built from the project, installed into a fresh virtual environment
outside the checkout and run from a directory with no checkout around it, riskapp scores the
bundled demo, writes a PDF report, builds a baseline from the bundled reference data and serves
the dashboard with its map outlines.

The fresh environment gets only riskapp itself from the wheel (pip --no-deps --no-index); its
dependencies are the test interpreter's, reached through a .pth line (no .pth file of the test
environment is run, so an editable install of the checkout stays out of it). A full install from
PyPI into an empty environment takes minutes; this takes seconds, offline.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

# what an installed riskapp needs besides its code (checked by name inside the wheel)
BUNDLED = [
    "riskapp/py.typed",
    "riskapp/resources/demo/workspace.yaml",
    "riskapp/resources/demo/assets.csv",
    "riskapp/resources/scenarios/baseline.yaml",
    "riskapp/resources/methods/default.yaml",
    "riskapp/resources/methodology/07-expected-loss.md",
    "riskapp/resources/refdata/SOURCES.md",
    "riskapp/resources/refdata/wgi/WGIData_full.csv",
    "riskapp/resources/geo/sea_areas.geojson",
    "riskapp/resources/geo/countries_110m.topojson",
    "riskapp/resources/geo/countries_110m.shapes.wkb",
    "riskapp/resources/geo/subdivisions.geojson.gz",
    "riskapp/resources/geo/subdivisions.index.json",
    "riskapp/resources/geo/SUBDIVISIONS.md",
    "riskapp/resources/demo/zones.yaml",
    "riskapp/resources/demo/routes.yaml",
    "riskapp/reporting/templates/report.html",
    "riskapp/reporting/templates/report.css",
    "riskapp/reporting/vendor/plotly-report.min.js",
    "riskapp/dashboard/static/world_110m.json",
    "riskapp/dashboard/static/favicon.png",
    "riskapp/dashboard/streamlit.toml",
    "riskapp/dashboard/views/overview.py",
    "riskapp/store/alembic.ini",
    "riskapp/store/migrations/script.py.mako",
    "riskapp/store/migrations/versions/0001_initial.py",
]
PDFTOTEXT = shutil.which("pdftotext")


def _setuptools_builds_wheels() -> bool:
    """setuptools >= 70.1 builds wheels by itself; then no build environment is needed."""
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    cwd: Path  # a directory with no checkout in or above it
    env: dict[str, str]
    # the PDF report takes longest (charts drawn by Chromium): it runs while the other tests do
    report: subprocess.Popen[str] | None = None

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(self.venv / "bin" / "riskapp"), *args],
            cwd=self.cwd,
            env=env or self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def riskapp(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "riskapp"), *args],
            check=False,
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


def _copy_sources(dest: Path) -> Path:
    """What the wheel is built from, copied so the build writes nothing into the checkout."""
    src = dest / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "riskapp",
        src / "riskapp",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return src


def _run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("packaging")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    src = _copy_sources(base)
    dist = base / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dist)]
    env = dict(os.environ)
    if _setuptools_builds_wheels():
        build.append("--no-build-isolation")  # offline: this environment's setuptools
    else:
        # pip fetches setuptools from PyPI into an isolated build environment; a cache in the
        # system's temporary folder (never the home) saves the download next time
        env["PIP_CACHE_DIR"] = str(Path(tempfile.gettempdir()) / "riskapp-test-pip-cache")
    _run([*build, str(src)], env=env)
    (wheel,) = dist.glob("riskapp-*.whl")
    timings["build"] = time.perf_counter() - t

    t = time.perf_counter()
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    purelib = Path(
        subprocess.check_output(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            text=True,
        ).strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "_riskapp_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ]
    )
    timings["install"] = time.perf_counter() - t

    cwd = base / "elsewhere"
    cwd.mkdir()
    run_env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    run_env["PATH"] = f"{venv / 'bin'}{os.pathsep}{run_env.get('PATH', '')}"
    run_env["RISKAPP_DATA_DIR"] = str(base / "data")
    print(
        f"wheel {wheel.stat().st_size / 1e6:.1f} MB; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    )
    done = Installed(wheel=wheel, venv=venv, cwd=cwd, env=run_env)
    if any(item.name == "test_pdf_report" for item in request.session.items):
        report_env = {**run_env, "RISKAPP_DATA_DIR": str(base / "report-data")}
        args = ("report", "demo", "--out", str(cwd / "report.pdf"), "--format", "pdf")
        done = dataclasses.replace(done, report=done.start(*args, env=report_env))
    try:
        yield done
    finally:
        if done.report is not None and done.report.poll() is None:
            os.killpg(done.report.pid, signal.SIGKILL)
            done.report.wait(timeout=10)


def test_the_wheel_holds_every_resource(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as z:
        names = set(z.namelist())
    missing = [n for n in BUNDLED if n not in names]
    assert not missing, f"not in {installed.wheel.name}: {missing}"
    assert not any(n.startswith(("tests/", "demo/", "benchmarks/")) for n in names)


def test_the_installed_package_is_the_wheel(installed: Installed) -> None:
    where = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", "import riskapp; print(riskapp.__file__)"],
        cwd=installed.cwd,
        env=installed.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.venv), where
    assert not Path(where).is_relative_to(ROOT)


def test_score_the_bundled_demo(installed: Installed) -> None:
    result = installed.riskapp("score", "demo", "--top", "3")
    assert result.returncode == 0, result.stderr
    text = " ".join((result.stdout + result.stderr).split())
    assert "Vestmark Components" in text
    assert "75 assets, 10 scenarios" in text
    assert str(installed.venv) in text  # the demo inside the installed package


def test_baseline_build_from_the_bundled_reference_data(installed: Installed) -> None:
    out = installed.cwd / "baseline.csv"
    result = installed.riskapp("baseline", "build", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert len(lines) > 100
    assert lines[0].startswith("country")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_map_outlines(installed: Installed) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            str(installed.venv / "bin" / "riskapp"),
            "serve",
            "demo",
            "--port",
            str(port),
            "--no-open",
        ],
        cwd=installed.cwd,
        env=installed.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        healthy = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                    healthy = True
                    break
            except OSError:
                time.sleep(0.3)
        assert healthy, f"no dashboard on {base}; exit code {proc.poll()}"
        with urllib.request.urlopen(f"{base}/app/static/world_110m.json", timeout=5) as r:
            assert r.status == 200
            outlines = r.read()
        assert b'"countries"' in outlines
        with urllib.request.urlopen(base, timeout=5) as r:
            assert b"<html" in r.read().lower()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.mark.skipif(PDFTOTEXT is None and not os.environ.get("CI"), reason="needs pdftotext")
def test_pdf_report(installed: Installed) -> None:
    """`riskapp report demo --format pdf` (started with the fixture, see Installed.report)."""
    assert installed.report is not None
    _, stderr = installed.report.communicate(timeout=240)
    assert installed.report.returncode == 0, stderr
    out = installed.cwd / "report.pdf"
    assert out.read_bytes()[:5] == b"%PDF-"
    assert PDFTOTEXT is not None
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Vestmark Components" in text
    assert "Executive summary" in text
    # the world map was drawn from the outlines inside the installed package
    assert "Portfolio and map" in text
    # run again on the same inputs, the chart images kept: no browser starts and the PDF is
    # laid out in the renderer process (riskapp.reporting.pdfprocess), run from the wheel
    again_env = {**installed.env, "RISKAPP_DATA_DIR": str(installed.cwd.parent / "report-data")}
    again = installed.cwd / "again.pdf"
    done = subprocess.run(
        [
            str(installed.venv / "bin" / "riskapp"),
            *("report", "demo", "--out", str(again)),
            "--format",
            "pdf",
        ],
        cwd=installed.cwd,
        env=again_env,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "no browser started" in done.stdout
    assert "Traceback" not in done.stderr  # the renderer imported and ran (it shares stderr)
    second = subprocess.run(
        [PDFTOTEXT, "-layout", str(again), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert re.sub(r"\d\d:\d\d(:\d\d)?", "hh:mm", second) == re.sub(
        r"\d\d:\d\d(:\d\d)?", "hh:mm", text
    )
