"""New workspaces (`riskapp init`): a folder with everything an assessment needs but the
client's assets, or a self-contained copy of the demo.

Templates:

- `blank`: the shipped factors; the demo's country groups (those naming only countries and
  shipped sea areas); the curve library's curves for every type it has (17 asset types, every
  factor, each with its rationale and sources); a baseline of every factor for every country built
  from the public reference data riskapp ships (`riskapp baseline build`, with provenance in
  each row's source); a status-quo scenario; no plans; an asset register with its header only.
- `energy`, `logistics`, `manufacturing`, `telecom`: `blank` with the library's types of that
  sector only.
- `demo`: the demo workspace with its scenario library inside the folder (the shipped demo
  points outside itself at the shared library), to change and learn from.

The folder is built next to the target under a temporary name, checked as `riskapp validate`
checks it, and renamed into place: a workspace is created whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from riskapp.io.errors import InputError, Problem

SECTORS = ("energy", "logistics", "manufacturing", "telecom")
TEMPLATES = ("blank", "demo", *SECTORS)

STATUS_QUO = """\
# The status quo: today's conditions continue, at the intensities of baseline.csv with no
# shock. Every other scenario is measured against this one; add yours next to it (one file per
# scenario, the file name its id; `riskapp schema` writes the JSON Schema editors check with).
id: baseline
title: Status quo
narrative: >-
  Today's conditions continue: the background intensities of the baseline, with no shock.
frequency: 1.0
horizon_years: 1
warning_time_days: 0
shocks: []
tags: [baseline]
"""

PLANS = """\
# Contingency plans: what the company would do, when (triggers on scenarios or intensities),
# at what cost and how much loss each action averts. None yet; see the demo's plans.yaml.
plans: []
"""


@dataclass(frozen=True)
class Created:
    """What `create_workspace` made: the folder, its template and files, and the asset types
    the register may use (those with curves)."""

    path: Path
    template: str
    files: tuple[str, ...]
    asset_types: tuple[str, ...]


def _workspace_yaml(name: str, currency: str) -> str:
    # json.dumps quotes the name as YAML reads a double-quoted string (no YAML syntax runs)
    return f"""\
# Settings of this workspace (`riskapp schema` documents every key).
name: {json.dumps(name)}
client: ""
currency: {currency}            # the reporting currency (ISO 4217)
# Exchange rates of the currencies in assets.csv: `riskapp fx import eurofxref.csv .` writes
# fx.csv from the ECB's reference rates, with their date and source.
discount_rate: 0.05
plan_horizon_years: 5
loss_basis: incremental         # or absolute
require_readiness: true
return_periods: [10, 50, 100, 250]
"""


def _regions(demo_text: str) -> str:
    """The demo's groups naming only countries and shipped sea areas (its own zones and
    subdivisions are the demo's)."""
    import yaml

    from riskapp.domain.common import iso_alpha3_codes
    from riskapp.io.sea_areas import sea_area_ids

    known = set(iso_alpha3_codes()) | set(sea_area_ids())
    groups = yaml.safe_load(demo_text)["groups"]
    names = {g["id"] for g in groups}
    kept = [g for g in groups if all(m in known or m in names for m in g["members"])]
    kept_ids = {g["id"] for g in kept}
    kept = [g for g in kept if all(m in known or m in kept_ids for m in g["members"])]
    head = (
        "# Named groups of countries (ISO 3166-1 alpha-3), shipped sea areas, zones and other\n"
        "# groups, which shocks, baseline rows and plans may target like a country.\n"
    )
    return head + yaml.safe_dump({"groups": kept}, sort_keys=False, allow_unicode=True)


def _curves(sector: str | None) -> str:
    """The curve library's types (of one sector, or all) as a curves file."""
    from riskapp.io.curve_library import curve_library, curves_yaml

    types = [t for t in curve_library().types if sector is None or sector in t.sectors]
    head = (
        "# Vulnerability curves: intensity (0-10) -> damage ratio (share of the exposed value\n"
        "# lost), from riskapp's curve library (`riskapp curves list`): analyst judgement with\n"
        "# the rationale and sources of each type. They are this workspace's own now: calibrate\n"
        "# them to the client; `riskapp curves add TYPE` adds a library type later.\n"
        "curves:\n"
    )
    return head + curves_yaml(types)


def _blank(
    folder: Path, name: str, currency: str, as_of: dt.date | None, sector: str | None
) -> None:
    from riskapp.baseline.build import build, write_baseline
    from riskapp.domain.assets import ASSET_COLUMNS
    from riskapp.resources import DEMO

    (folder / "workspace.yaml").write_text(_workspace_yaml(name, currency), encoding="utf-8")
    shutil.copyfile(DEMO / "factors.yaml", folder / "factors.yaml")
    demo_regions = (DEMO / "regions.yaml").read_text(encoding="utf-8")
    (folder / "regions.yaml").write_text(_regions(demo_regions), encoding="utf-8")
    (folder / "curves.yaml").write_text(_curves(sector), encoding="utf-8")
    write_baseline(build(as_of=as_of), folder / "baseline.csv")
    (folder / "assets.csv").write_text(",".join(ASSET_COLUMNS) + "\n", encoding="utf-8")
    (folder / "plans.yaml").write_text(PLANS, encoding="utf-8")
    (folder / "scenarios").mkdir()
    (folder / "scenarios" / "baseline.yaml").write_text(STATUS_QUO, encoding="utf-8")


def _demo(folder: Path, name: str | None) -> None:
    from riskapp.resources import DEMO, SCENARIOS

    for f in DEMO.iterdir():
        if f.is_file():
            shutil.copyfile(f, folder / f.name)
    shutil.copytree(SCENARIOS, folder / "scenarios")
    text = (folder / "workspace.yaml").read_text(encoding="utf-8")
    # the library now lies inside the folder, where `paths.scenarios` looks by default
    text = text.split("\npaths:\n", 1)[0] + "\n"
    if name is not None:
        lines = text.splitlines(keepends=True)
        text = "".join(
            f"name: {json.dumps(name)}\n" if ln.startswith("name:") else ln for ln in lines
        )
    (folder / "workspace.yaml").write_text(text, encoding="utf-8")


def _usual_permissions(folder: Path) -> None:
    """Folders and files as the user's umask makes them (a temporary folder is private)."""
    mask = os.umask(0)
    os.umask(mask)
    folder.chmod(0o777 & ~mask)
    for p in folder.rglob("*"):
        p.chmod((0o777 if p.is_dir() else 0o666) & ~mask)


def create_workspace(
    target: Path,
    template: str = "blank",
    name: str | None = None,
    currency: str = "EUR",
    as_of: dt.date | None = None,
) -> Created:
    """Create a workspace in `target` (a new or empty folder) from a template (`TEMPLATES`);
    raise InputError naming what is wrong. The workspace is checked before it is put in place;
    nothing is left behind if anything fails."""
    from riskapp.domain.assets import check_currency
    from riskapp.io.workspace import load_workspace

    target = Path(target)
    problems: list[Problem] = []
    if template not in TEMPLATES:
        problems.append(
            Problem(
                "--template", None, "", f"expected one of {', '.join(TEMPLATES)}; got {template!r}"
            )
        )
    try:
        check_currency(currency)
    except ValueError as exc:
        problems.append(Problem("--currency", None, "", str(exc)))
    if name is not None and not (0 < len(name) <= 200 and name.isprintable()):
        problems.append(Problem("--name", None, "", "expected 1-200 printable characters"))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        problems.append(
            Problem(
                str(target),
                None,
                "",
                "exists and is not an empty folder: a workspace is "
                "created in a new or empty folder, so that nothing there is overwritten",
            )
        )
    if problems:
        raise InputError(problems)
    parent = target.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=parent))
    try:
        if template == "demo":
            _demo(staging, name)
        else:
            sector = template if template in SECTORS else None
            _blank(staging, name or target.resolve().name, currency, as_of, sector)
        ws = load_workspace(staging)  # what `riskapp validate` checks
        _usual_permissions(staging)
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    types = sorted({c.asset_type for c in ws.curves.curves if c.asset_type})
    return Created(target, template, tuple(files), tuple(types))
