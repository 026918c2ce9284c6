"""The team workspace in the dashboard: the store each server shares, the login gate, and the
tables and charts of the Register, Audit and History pages.

Everything below the "pure functions" line takes plain values and returns frames or figures
(tested without Streamlit). The store checks roles itself; pages only adapt what they offer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from riskapp.dashboard.assessment import Assessment
from riskapp.dashboard.charts.common import layout
from riskapp.domain import Asset, LossBasis
from riskapp.domain.assets import ASSET_COLUMNS
from riskapp.io.errors import Problem
from riskapp.settings import Settings
from riskapp.store import (
    Actor,
    ActorKind,
    AssetEdit,
    AuthError,
    LoginThrottled,
    PlanEdit,
    Store,
    StoredAsset,
    StoredPlan,
    Table,
)
from riskapp.store.assessments import KEY_FIGURES, Comparison
from riskapp.store.validation import parse_assets, register_checks

SESSION_ACTOR = "riskapp_actor"
EDITABLE_PLAN_COLUMNS = ["owner", "status", "review_date"]


# -- the shared store and the login gate --------------------------------------------------------


def settings() -> Settings:
    """Settings read now (tests and deployments set RISKAPP_* before the app starts)."""
    from riskapp.dashboard.state import workspace_path

    return Settings(workspace=workspace_path())


@st.cache_resource(show_spinner="Opening the workspace database...")
def _open_store(url: str, workspace: str) -> Store:
    return Store.open(settings(), url=url, files=Path(workspace))


def get_store() -> Store:
    """The store of this server (one connection pool per database and workspace)."""
    s = settings()
    return _open_store(s.database, str(s.workspace))


def _logout() -> None:
    st.session_state.pop(SESSION_ACTOR, None)


def login_gate(sidebar: bool = True) -> Actor:
    """The person using the dashboard; stops the page behind a login form when needed.

    No users in the store: the local demo runs without login (admin rights) and the sidebar
    says so. Otherwise a username/password form (argon2, throttled by the store) and, when
    `RISKAPP_OIDC_PROVIDER` names a provider configured for st.login, a button for it.
    app.py calls it once per run with the sidebar status and logout button; pages call it
    again with `sidebar=False` so that no page shows anything to someone not logged in.
    """
    store = get_store()
    cfg = settings()
    if not store.has_users():
        if sidebar:
            st.sidebar.caption("Local demo: no login configured; everyone has every right.")
        return Actor.local()
    actor = st.session_state.get(SESSION_ACTOR)
    if actor is None and cfg.oidc_provider and _oidc_logged_in():
        try:
            actor = store.oidc_actor(str(st.user.get("email", "")))
            st.session_state[SESSION_ACTOR] = actor
        except AuthError as exc:
            st.error(str(exc))
    if isinstance(actor, Actor):
        if sidebar:
            with st.sidebar:
                name = actor.display_name or actor.username
                st.caption(f"Signed in as **{name}** ({actor.role})")
                st.button("Log out", on_click=_logout, key="riskapp_logout")
        return actor
    _login_form(store, cfg)
    st.stop()
    raise RuntimeError("unreachable: st.stop() ends the script run")


def _oidc_logged_in() -> bool:
    try:
        return bool(st.user.get("is_logged_in", False))
    except Exception:  # st.user without an auth configuration
        return False


def _login_form(store: Store, cfg: Settings) -> None:
    st.title("Log in")
    st.caption("This workspace has user accounts: log in to see and change it.")
    with st.form("riskapp_login"):
        username = st.text_input("Username", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            st.session_state[SESSION_ACTOR] = store.authenticate(username, password)
            st.rerun()
        except LoginThrottled as exc:
            st.error(f"Too many failed logins. {str(exc).capitalize()}.")
        except AuthError:
            st.error("Wrong username or password.")
    if cfg.oidc_provider:
        st.button(
            f"Log in with {cfg.oidc_provider}",
            on_click=st.login,
            args=(cfg.oidc_provider,),
            key="riskapp_oidc",
        )


@st.cache_resource(show_spinner="Scoring the workspace...", max_entries=8)
def _assess_store(
    url: str, workspace: str, revision: int, basis: str, files_signature: Hashable
) -> Assessment:
    from riskapp.engine import evaluate_plans, prepare, score

    del revision, files_signature  # cache key only: any change means a new assessment
    ws = _open_store(url, workspace).workspace()
    inputs = prepare(ws)
    result = score(ws, basis=LossBasis(basis), inputs=inputs)
    return Assessment(ws, inputs, result, evaluate_plans(ws, result))


def store_assessment(basis: LossBasis, files_signature: Hashable = ()) -> Assessment:
    """The assessment of the files plus the stored register and plans, cached until the store
    changes (its revision) or the files do (`files_signature`, e.g. state.files_signature(path)).
    Raises riskapp.io.InputError like `assess` when the parts do not fit."""
    s = settings()
    store = _open_store(s.database, str(s.workspace))
    return _assess_store(
        s.database, str(s.workspace), store.revision(), basis.value, files_signature
    )


def problems_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """Problems as a table: file, row, column, reason."""
    return pd.DataFrame(
        [
            {
                "file": p.file,
                "row": p.line,
                "column": p.field,
                "reason": p.message,
            }
            for p in problems
        ],
        columns=["file", "row", "column", "reason"],
    ).astype({"row": "Int64"})


def save_upload(name: str, data: bytes) -> Table:
    """An uploaded CSV/XLSX as a table (rows numbered as the spreadsheet numbers them)."""
    suffix = Path(name).suffix.lower() or ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        return Table.from_file(path, name)


# -- pure functions: register editing ------------------------------------------------------------


def _cell(value: object) -> object:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def register_frame(assets: Sequence[StoredAsset]) -> pd.DataFrame:
    """The register as the editor shows it: one row per asset, lists as 'a;b' text."""
    rows = [{c: _cell(v) for c, v in s.asset.model_dump().items()} for s in assets]
    frame = pd.DataFrame(rows, columns=ASSET_COLUMNS)
    for col in ("lat", "lon", "replacement_value", "annual_revenue_at_stake"):
        frame[col] = frame[col].astype("float64")
    frame["criticality"] = frame["criticality"].astype("Int64")
    return frame


@dataclass(frozen=True)
class RegisterChanges:
    """What an edited grid asks the store to do, or the problems that keep it from saving."""

    edits: list[AssetEdit]
    problems: list[Problem]

    @property
    def empty(self) -> bool:
        return not self.edits and not self.problems


def asset_edits(
    versions: dict[str, int],
    original: Sequence[Asset],
    edited: pd.DataFrame,
    name: str = "register",
) -> RegisterChanges:
    """Compare the edited grid with the register as it was read (`versions`: id -> version
    when read). Rows are validated as an import validates them (row 2 = first asset)."""
    table = Table.from_frame(edited[ASSET_COLUMNS], name)
    if not table.rows:
        return RegisterChanges(
            [],
            [Problem(name, None, "", "the register cannot be empty", "row")],
        )
    assets, lines, problems = parse_assets(table)
    if problems:
        return RegisterChanges([], problems)
    problems = register_checks(assets, list[int | None](lines), name)
    if problems:
        return RegisterChanges([], problems)
    before = {a.id: a for a in original}
    edits: list[AssetEdit] = []
    kept = set()
    for asset in assets:
        kept.add(asset.id)
        old = before.get(asset.id)
        if old is None:
            edits.append(AssetEdit(asset.id, asset, None))
        elif old != asset:
            edits.append(AssetEdit(asset.id, asset, versions[asset.id]))
    edits.extend(AssetEdit(a.id, None, versions[a.id]) for a in original if a.id not in kept)
    return RegisterChanges(edits, [])


def plan_frame(plans: Sequence[StoredPlan], today: date) -> pd.DataFrame:
    """Plans with the fields the product edits, and whether their review is overdue."""
    return pd.DataFrame(
        [
            {
                "id": p.id,
                "title": p.plan.title,
                "owner": p.plan.owner,
                "status": p.plan.status.value,
                "review_date": p.review_date,
                "overdue": p.overdue(today),
            }
            for p in plans
        ],
        columns=["id", "title", "owner", "status", "review_date", "overdue"],
    )


def _same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and pd.isna(a)) or a is pd.NaT:
        return b is None or (isinstance(b, float) and pd.isna(b)) or b is pd.NaT
    return bool(a == b)


def _as_date(value: object) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def plan_edits(
    versions: dict[str, int], original: pd.DataFrame, edited: pd.DataFrame
) -> list[PlanEdit]:
    """Owner, status and review-date changes of the plan grid (rows keep their order)."""
    out = []
    for (_, before), (_, after) in zip(original.iterrows(), edited.iterrows(), strict=True):
        changes: dict[str, object] = {}
        for col in EDITABLE_PLAN_COLUMNS:
            old, new = before[col], after[col]
            if col == "review_date":
                old, new = _as_date(old), _as_date(new)
            if col == "owner":
                new = "" if new is None or (isinstance(new, float) and pd.isna(new)) else new
            if not _same(old, new):
                changes[col] = new
        if changes:
            out.append(PlanEdit(str(before["id"]), changes, versions[str(before["id"])]))
    return out


def overdue_reviews(plans: Sequence[StoredPlan], today: date) -> pd.DataFrame:
    """Plans whose review date has passed (not retired), most overdue first."""
    rows = [
        {
            "id": p.id,
            "title": p.plan.title,
            "owner": p.plan.owner,
            "status": p.plan.status.value,
            "review_date": p.review_date,
            "days_overdue": (today - p.review_date).days if p.review_date else 0,
        }
        for p in plans
        if p.overdue(today)
    ]
    frame = pd.DataFrame(
        rows, columns=["id", "title", "owner", "status", "review_date", "days_overdue"]
    )
    return frame.sort_values("days_overdue", ascending=False, kind="stable").reset_index(drop=True)


# -- pure functions: history ------------------------------------------------------------------


TREND_FIGURES = ["Expected annual loss", "Expected annual loss after plans", "1-in-100-year loss"]


def trend_chart(trend: pd.DataFrame, currency: str) -> go.Figure:
    """Key figures across saved assessments (x: assessment date), one line per figure."""
    fig = go.Figure()
    for figure in TREND_FIGURES:
        fig.add_trace(
            go.Scatter(
                x=trend["as_of"],
                y=trend[figure],
                name=figure,
                mode="lines+markers",
                text=trend["label"],
                hovertemplate="%{text}<br>%{x|%Y-%m-%d}<br>%{y:,.0f} "
                + currency
                + "<extra>"
                + figure
                + "</extra>",
            )
        )
    fig.update_yaxes(title=currency, rangemode="tozero", gridcolor="#eee")
    fig.update_xaxes(title="Assessment date", gridcolor="#eee")
    return layout(fig, "Key figures across saved assessments", height=380)


def key_figure_table(comparison: Comparison) -> pd.DataFrame:
    table = comparison.key_figures.copy()
    before = table["before"].replace(0, float("nan"))
    table["change %"] = (table["change"] / before * 100).round(1)
    return table


def comparison_table(comparison: Comparison, dimension: str, top: int = 25) -> pd.DataFrame:
    """The largest movers of one dimension with the input changes that explain them."""
    table = comparison.by[dimension]
    moved = table[table["change"].abs() > 0.5]
    return moved.head(top).reset_index(drop=True)


def figure_labels() -> dict[str, str]:
    return dict(KEY_FIGURES)


def actor_label(actor: Actor) -> str:
    if actor.kind is ActorKind.LOCAL:
        return "local demo (no login)"
    return f"{actor.display_name or actor.username} ({actor.role.value})"
