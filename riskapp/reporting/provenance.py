"""Where a report's numbers come from: the `Provenance` every format prints (riskapp version,
source and revision, the SHA-256 of exactly the inputs used and what it covers, files and
database differences, scenarios, plans, data sources, reference-data attribution)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment

SYNC_SHOWN = 20  # differences between files and database listed in a report


@dataclass(frozen=True)
class Provenance:
    """Where a report's numbers come from.

    riskapp_version  `riskapp.__version__`
    source           where the inputs came from: files, store (the model files with the
                     register and plans of the team database) or memory
    source_revision  the source's revision, e.g. "store r85 + files 3f2a9c1e4b7d"
    input_hash       SHA-256 (hex) of exactly the inputs used: for files, over each input file
                     sorted by its path relative to the workspace folder (the path, a NUL byte,
                     the bytes and a NUL byte); for a store, over the hash of the model files
                     and the register and plans as read from the database; in memory, over
                     the workspace's canonical JSON. `input_hash_basis` says which.
    input_files      what was read: paths relative to the workspace folder (posix) and, for a
                     store, the database and its revision
    generated_at     timezone-aware UTC timestamp
    scenario_ids     scenarios included, in report order (by gross loss)
    plan_ids         plans evaluated, in plan-book order
    data_sources     distinct `source` values of the workspace's baseline, sorted
    vintages         per factor, the vintage of its baseline values where the assets are (the
                     newest period behind each value) and a warning when data are older than
                     RISKAPP_MAX_DATA_AGE_MONTHS (riskapp/assessment/freshness.py)
    exchange_rates   the exchange rates' source and date ("ECB euro foreign exchange
                     reference rates, 2026-04-13"; "undated" when nobody said)
    attribution      citation lines of the public reference data (data/refdata/SOURCES.md)
    workspace_path   the workspace folder (and database), or "" for an in-memory workspace
    """

    riskapp_version: str
    input_hash: str
    input_hash_basis: Literal["files", "store", "content"]
    input_files: tuple[str, ...]
    generated_at: datetime
    scenario_ids: tuple[str, ...]
    plan_ids: tuple[str, ...]
    data_sources: tuple[str, ...]
    attribution: tuple[str, ...]
    workspace_path: str = ""
    source: Literal["files", "store", "memory"] = "memory"
    source_revision: str = ""
    sync_summary: str = ""  # a store's register and plans against the files ("" otherwise)
    sync_differences: tuple[str, ...] = ()
    exchange_rates: str = ""
    probabilities: str = ""  # "prior (as written)" or the current ones and why
    vintages: tuple[tuple[str, str], ...] = ()  # (factor name, vintage and any warning)

    def _sync_text(self) -> str:
        shown = "; ".join(self.sync_differences[:SYNC_SHOWN])
        more = len(self.sync_differences) - SYNC_SHOWN
        tail = f"; and {more} more (riskapp sync lists all)" if more > 0 else ""
        return f"{self.sync_summary}" + (f": {shown}{tail}" if shown else "")

    def vintage_rows(self) -> list[tuple[str, str]]:
        """(label, value) per factor: how old the baseline data are, and any warning."""
        return [(f"Data vintage: {name}", text) for name, text in self.vintages]

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs, as every format prints them."""
        return [
            ("riskapp version", self.riskapp_version),
            ("Generated at (UTC)", self.generated_at.strftime("%Y-%m-%d %H:%M:%S")),
            ("Workspace", self.workspace_path or "(in memory)"),
            ("Source", f"{self.source}: {self.source_revision}"),
            *([("Files and team database", self._sync_text())] if self.sync_summary else []),
            (f"Input hash (SHA-256 of {self.input_hash_basis})", self.input_hash),
            ("Input files", ", ".join(self.input_files)),
            ("Scenarios", ", ".join(self.scenario_ids)),
            ("Plans", ", ".join(self.plan_ids)),
            ("Baseline data sources", "; ".join(self.data_sources)),
            *self.vintage_rows(),
            *([("Exchange rates", self.exchange_rates)] if self.exchange_rates else []),
            *([("Scenario probabilities", self.probabilities)] if self.probabilities else []),
            ("Reference data", " ".join(self.attribution)),
        ]


# Citations the data publishers ask for (data/refdata/SOURCES.md); listed in every report.
REFDATA_ATTRIBUTION: tuple[str, ...] = (
    "Caldara, D. and Iacoviello, M. (2022), Measuring Geopolitical Risk, American Economic "
    "Review 112(4) (GPR index).",
    "Kaufmann, D. and Kraay, A. (2023), Worldwide Governance Indicators, 2023 Update, World "
    "Bank, CC BY 4.0 (WGI).",
    "Eurostat, nrg_ti_gas, imports of natural gas by partner country (extract of 2022-04-05; "
    "reshaped, values unchanged).",
    "UCDP/PRIO Armed Conflict Dataset v23.1, CC BY 4.0: Davies, Pettersson and Oberg (2023), "
    "Journal of Peace Research; Gleditsch et al. (2002).",
)


def provenance_of(a: Assessment, scenario_ids: tuple[str, ...], when: datetime) -> Provenance:
    """Where the numbers of a report of `a` come from: its source, revision and the hash of
    exactly the inputs used, the scenarios in report order, the plans, the data sources."""
    from riskapp import __version__
    from riskapp.assessment.freshness import assessment_vintages
    from riskapp.settings import get_settings

    src = a.source
    hash_basis: Literal["files", "store", "content"] = (
        "content" if src.kind == "memory" else src.kind
    )
    return Provenance(
        riskapp_version=__version__,
        input_hash=src.fingerprint,
        input_hash_basis=hash_basis,
        input_files=src.inputs,
        generated_at=when,
        scenario_ids=scenario_ids,
        plan_ids=tuple(p.id for p in a.ws.plans.plans),
        data_sources=tuple(sorted({e.source for e in a.ws.baseline.entries if e.source})),
        attribution=REFDATA_ATTRIBUTION,
        workspace_path=src.location if src.kind != "memory" else "",
        source=src.kind,
        source_revision=src.revision,
        sync_summary=a.sync.summary() if a.sync is not None else "",
        sync_differences=tuple(str(d) for d in a.sync.differences) if a.sync else (),
        exchange_rates=a.ws.settings.fx_provenance() if a.ws.settings.fx_rates else "",
        probabilities=probabilities_text(a),
        vintages=tuple(
            (v.name, v.text)
            for v in assessment_vintages(a, when.date(), get_settings().max_data_age_months)
        ),
    )


def probabilities_text(a: Assessment) -> str:
    """Which scenario probabilities the figures use, in words, with every update and why."""
    if a.probabilities != "current":
        return "prior: as written in the scenarios"
    moved = []
    for u in a.probability_updates:
        if u.current == u.prior:
            continue
        why = ", ".join(
            f"{name} red since {since} (ratio {ratio:g})" for name, ratio, since in u.reasons
        )
        moved.append(f"{u.scenario_id} {u.prior:.2%} -> {u.current:.2%} ({why or 'its rung'})")
    return "current: prior odds x likelihood ratios of crossed signposts; " + (
        "; ".join(moved) if moved else "no signpost with a ratio is crossed, so as written"
    )


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
