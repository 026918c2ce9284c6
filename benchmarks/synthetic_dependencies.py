"""A synthetic workspace shaped like a real one with dependencies: the demo's factors,
regions, curves, baseline, plans and scenario library, a register of N assets: the demo's own
and synthetic ones drawn from them (same types and currencies, values scaled, half of them
moved to another country of the baseline, placed there by the country alone), and a
dependencies.csv of about L links that follow the demo's pattern of who depends on whom
(plants on suppliers, data centres, ports, pipelines; offices on data centres; suppliers and
warehouses on ports and shipping lanes; ports and data centres on lanes and cables), with
shared hubs, chains up to four levels deep and redundancy groups (two or three providers of
the same type backing each other up).

    build_workspace(dest, n_assets=2000, n_links=1400, seed=0) -> dest

Written into `dest` (a temporary folder of the caller); nothing else is touched.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
SCENARIOS = ROOT / "scenarios"
# the demo's files other than its register and links (which are written here): every other
# file it has, so that a file added to the demo (its rates file fx.csv, its indicators) is
# not silently missing from the synthetic workspace
WRITTEN = {"assets.csv", "dependencies.csv", "workspace.yaml"}
DEMO_INPUTS = tuple(sorted(p.name for p in DEMO.iterdir() if p.is_file() and p.name not in WRITTEN))
# what places an asset more precisely than its country: left empty on the rows moved to
# another country (a subdivision of the old one would be refused, its point would lie abroad)
PLACE_COLUMNS = ("subdivision", "lat", "lon", "city")

# provider types of each dependent type (the demo's pairs, plus ports and data centres relying
# on lanes and cables, so that chains run four levels deep); a provider's tier is always below
# its dependent's, so the graph has no cycle
PROVIDERS = {
    "plant": ["supplier", "data_centre", "subsea_cable", "port", "pipeline", "shipping_lane",
              "lng_terminal", "power_interconnector", "warehouse"],
    "office": ["data_centre", "subsea_cable", "shipping_lane", "port"],
    "supplier": ["shipping_lane", "port"],
    "warehouse": ["port", "shipping_lane"],
    "data_centre": ["subsea_cable", "power_interconnector"],
    "port": ["shipping_lane", "power_interconnector"],
}  # fmt: skip
TIER = {
    "shipping_lane": 0,
    "subsea_cable": 0,
    "pipeline": 0,
    "lng_terminal": 0,
    "power_interconnector": 0,
    "port": 1,
    "data_centre": 1,
    "supplier": 2,
    "warehouse": 2,
    "plant": 3,
    "office": 3,
}
MOVED_SHARE = 0.5  # synthetic assets placed in a random baseline country
REDUNDANT_SHARE = 0.3  # chance that a term is a redundancy group rather than a single link


def copy_demo_inputs(dest: Path, name: str) -> None:
    """The demo's inputs besides its register, copied into `dest` under another name: every
    file (zones and routes included; the demo's assets come first in a synthetic register, so
    its routes and plans still find theirs) and the scenarios, read from inside the folder."""
    import yaml

    dest.mkdir(parents=True, exist_ok=True)
    for file in DEMO_INPUTS:
        shutil.copy2(DEMO / file, dest / file)
    manifest = yaml.safe_load((DEMO / "workspace.yaml").read_text(encoding="utf-8"))
    manifest["name"] = name
    # the real scenarios, copied in: a workspace reads only files inside its own folder
    shutil.copytree(SCENARIOS.resolve(), dest / "scenarios", dirs_exist_ok=True)
    manifest.setdefault("paths", {})["scenarios"] = "scenarios"
    manifest.pop("allow_paths_outside", None)
    (dest / "workspace.yaml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def build_workspace(dest: Path, n_assets: int = 2000, n_links: int = 1400, seed: int = 0) -> Path:
    import numpy as np
    import pandas as pd

    copy_demo_inputs(dest, f"Synthetic {n_assets:,} assets, {n_links:,} links (benchmark)")

    demo = pd.read_csv(DEMO / "assets.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    extra = n_assets - len(demo)
    if extra < 0:
        raise ValueError(f"n_assets must be at least the demo's {len(demo)} assets")
    src = demo.iloc[rng.integers(0, len(demo), size=extra)].reset_index(drop=True)
    syn = src.copy()
    syn["id"] = [f"SYN-{i:06d}" for i in range(extra)]
    syn["name"] = [f"Synthetic {t} {i}" for i, t in enumerate(src["type"])]
    for col in ("replacement_value", "annual_revenue_at_stake"):
        factors = rng.lognormal(0.0, 0.5, size=extra)
        syn[col] = [
            str(round(float(text) * f)) if text else ""
            for text, f in zip(src[col], factors, strict=True)
        ]
    # half of them in another country of the baseline, so the groups of assets that share a
    # type and a country spread as a real register's do
    countries = sorted(
        set(pd.read_csv(DEMO / "baseline.csv", dtype=str, keep_default_na=False)["country"])
    )
    moved = rng.random(extra) < MOVED_SHARE
    syn.loc[moved, "country"] = rng.choice(countries, size=int(moved.sum()))
    for column in PLACE_COLUMNS:
        if column in syn:
            syn.loc[moved, column] = ""
    syn["depends_on"] = ""
    # the demo's own assets and links first (its curves and plans name some of them)
    frame = pd.concat([demo, syn], ignore_index=True)
    demo_links = pd.read_csv(DEMO / "dependencies.csv", dtype=str, keep_default_na=False)

    types = frame["type"].to_numpy()
    ids = frame["id"].to_numpy()
    by_type = {t: np.flatnonzero(types == t) for t in TIER}
    # hub weights: a few providers of each type carry most links (Zipf-like), as real ports do
    weight = {
        t: (1.0 / np.arange(1, len(rows) + 1)) / (1.0 / np.arange(1, len(rows) + 1)).sum()
        for t, rows in by_type.items()
        if len(rows)
    }
    rows_out: list[tuple[str, str, str, str]] = [
        (r.asset_id, r.depends_on, r.share, r.redundancy_group)
        for r in demo_links.itertuples(index=False)
    ]
    depends: dict[str, list[str]] = {}
    candidates = len(demo) + np.flatnonzero(np.isin(types[len(demo) :], list(PROVIDERS)))
    rng.shuffle(candidates)
    for a in candidates.tolist():
        if len(rows_out) >= n_links:
            break
        kinds = [p for p in PROVIDERS[str(types[a])] if p in weight]
        k = min(len(kinds), int(rng.integers(1, 4)))
        for p_type in rng.choice(kinds, size=k, replace=False).tolist():
            pool = by_type[p_type]
            size = 1
            if rng.random() < REDUNDANT_SHARE and len(pool) > 1:
                size = min(len(pool), int(rng.integers(2, 4)))
            chosen = rng.choice(pool, size=size, replace=False, p=weight[p_type])
            share = f"{rng.uniform(0.05, 0.25):.2f}"
            group = f"{p_type}_backup" if size > 1 else ""
            for b in chosen.tolist():
                rows_out.append((str(ids[a]), str(ids[b]), share, group))
                depends.setdefault(str(ids[a]), []).append(str(ids[b]))
    frame.loc[len(demo) :, "depends_on"] = [
        ";".join(depends.get(str(i), [])) for i in ids[len(demo) :]
    ]
    frame.to_csv(dest / "assets.csv", index=False)
    pd.DataFrame(rows_out, columns=["asset_id", "depends_on", "share", "redundancy_group"]).to_csv(
        dest / "dependencies.csv", index=False
    )
    return dest


if __name__ == "__main__":
    import sys
    import tempfile

    out = build_workspace(Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()))
    print(out)
