"""The team workspace in the dashboard: the store each server shares, the login gate, and the
tables and charts of the Register, Audit and History pages.

Everything below the "pure functions" line takes plain values and returns frames or figures
(tested without Streamlit). The store checks roles itself; pages only adapt what they offer.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import streamlit as st

from riskapp.assessment.alerts import first_alerts
from riskapp.assessment.core import Assessment, assess
from riskapp.assessment.sources import (
    FileSource,
    Snapshot,
    SourceKind,
    StoreSource,
    SyncStatus,
)
from riskapp.dashboard import workspaces
from riskapp.domain import LossBasis
from riskapp.io import InputError
from riskapp.settings import Settings, settings_now
from riskapp.store import (
    Actor,
    AuthError,
    LoginThrottled,
    Store,
    StoreBusyError,
    client_source,
)

if TYPE_CHECKING:
    from riskapp.store.assessments import Comparison
    from riskapp.store.saved import AssessmentSummary, SavedAssessment

SESSION_ACTOR = "riskapp_actor"
EDITABLE_PLAN_COLUMNS = ["owner", "status", "review_date"]


# -- the shared store and the login gate --------------------------------------------------------


def settings() -> Settings:
    """Settings read now (tests and deployments set RISKAPP_* before the app starts), for the
    workspace this session shows (riskapp.dashboard.workspaces)."""
    from riskapp.dashboard.state import workspace_path

    return settings_now(workspace=workspace_path(), workspace_id=workspaces.chosen()[0])


def branding_defaults() -> dict[str, str]:
    """The report branding defaults of the workspace this session shows."""
    return dict(get_store().workspace_info().branding)


@st.cache_resource(show_spinner="Opening the workspace database...")
def _open_store(url: str, workspace: str) -> Store:
    return Store.open(settings(), url=url, files=Path(workspace))


def get_store() -> Store:
    """The store of this server (one connection pool per database and workspace)."""
    from riskapp.store.engine import SchemaNotCurrent

    s = settings()
    try:
        return _open_store(s.database, str(s.workspace))
    except SchemaNotCurrent as exc:  # an application role that may not migrate
        st.error(str(exc))
        st.stop()


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
        return workspaces.choose(store, Actor.local(), cfg, sidebar)
    actor = st.session_state.get(SESSION_ACTOR)
    if actor is None and cfg.oidc_provider and _oidc_logged_in():
        try:
            actor = store.oidc_actor(str(st.user.get("email", "")))
            st.session_state[SESSION_ACTOR] = actor
        except AuthError as exc:
            st.error(str(exc))
    if isinstance(actor, Actor):
        actor = workspaces.choose(store, actor, cfg, sidebar)
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


def client_address(cfg: Settings) -> str | None:
    """The browser's address: the connection's, or behind a trusted proxy
    (`RISKAPP_TRUSTED_PROXIES`) the client it forwards for; None where it is unknown (tests,
    scripts)."""
    try:
        address = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # no browser session
        return None
    return client_source(str(address) if address else None, forwarded, cfg.trusted_proxies)


def _login_form(store: Store, cfg: Settings) -> None:
    st.title("Log in")
    st.caption("This workspace has user accounts: log in to see and change it.")
    with st.form("riskapp_login"):
        username = st.text_input("Username", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            st.session_state[SESSION_ACTOR] = store.authenticate(
                username, password, source=client_address(cfg)
            )
            st.rerun()
        except LoginThrottled as exc:
            st.error(f"Too many failed logins. {str(exc).capitalize()}.")
        except AuthError:
            st.error("Wrong username or password.")
        except StoreBusyError as exc:
            st.warning(str(exc))
    if cfg.oidc_provider:
        st.button(
            f"Log in with {cfg.oidc_provider}",
            on_click=st.login,
            args=(cfg.oidc_provider,),
            key="riskapp_oidc",
        )


# -- saved assessments: never changed once saved, so read once per server ----------------------


@st.cache_resource(show_spinner=False, max_entries=16)
def _saved(url: str, workspace: str, assessment_id: int, created_at: str, digest: str) -> Any:
    del created_at, digest  # cache key only: a restored database may reuse an id
    return _open_store(url, workspace).assessment(assessment_id)


def saved_assessment(summary: AssessmentSummary) -> SavedAssessment:
    """A saved assessment (its inputs' fingerprint and results: large for a large register),
    read from the database once per server: a saved assessment is never changed."""
    s = settings()
    return cast(
        "SavedAssessment",
        _saved(
            s.database,
            str(s.workspace),
            summary.id,
            summary.created_at.isoformat(),
            summary.inputs_hash,
        ),
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def _compared(url: str, workspace: str, before: tuple[Any, ...], after: tuple[Any, ...]) -> Any:
    del url, workspace  # cache key only
    from riskapp.store.assessments import compare

    return compare(_saved(*before), _saved(*after))


def comparison(before: AssessmentSummary, after: AssessmentSummary) -> Comparison:
    """`riskapp.store.assessments.compare` of two saved assessments, once per server."""
    s = settings()

    def key(x: AssessmentSummary) -> tuple[Any, ...]:
        return (s.database, str(s.workspace), x.id, x.created_at.isoformat(), x.inputs_hash)

    return cast("Comparison", _compared(s.database, str(s.workspace), key(before), key(after)))


class _StoreRevision:
    """The team database with the model files at one revision of both: what the store holds
    (read once) and what differs from the workspace's files (compared once), whichever loss
    basis an assessment of it is scored on."""

    def __init__(self, source: StoreSource) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._sync: tuple[SyncStatus | None] | None = None

    @property
    def kind(self) -> SourceKind:
        return "store"

    @property
    def store(self) -> Store:
        """The team database (its indicators give the signposts their values)."""
        return self.source.store

    def revision(self) -> str:
        return self.source.revision()

    def load(self) -> Snapshot:
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self.source.load()
            return self._snapshot

    def sync(self, a: Assessment) -> SyncStatus | None:
        """`Assessment.sync` of this revision's assessments, computed for the first."""
        with self._lock:
            if self._sync is None:
                self._sync = (a.sync,)
            return self._sync[0]


@st.cache_resource(show_spinner=False, max_entries=4)
def _store_revision(url: str, workspace: str, revision: str) -> _StoreRevision:
    del revision  # cache key only
    return _StoreRevision(StoreSource(_open_store(url, workspace), Path(workspace)))


@st.cache_resource(show_spinner="Scoring the workspace...", max_entries=8)
def _assess_store(
    url: str, workspace: str, revision: str, basis: str, probabilities: str = "prior"
) -> Assessment:
    # any change of the files or the database is a new revision, so a new assessment; the
    # store is read and compared with the files once per revision, not once per loss basis
    at = _store_revision(url, workspace, revision)
    a = assess(
        at, LossBasis(basis), probabilities="current" if probabilities == "current" else "prior"
    )
    a.__dict__["sync"] = at.sync(a)  # the cached property, shared by the revision's bases
    return a


def source() -> StoreSource:
    """The dashboard's source: the workspace's model files with the team database's register
    and plans (`riskapp score --source store` computes the same)."""
    s = settings()
    return StoreSource(_open_store(s.database, str(s.workspace)), Path(s.workspace))


def store_assessment(basis: LossBasis, probabilities: str = "prior") -> Assessment:
    """The assessment of the files plus the stored register and plans, cached per revision of
    both (a register or plan edit, or a changed file, means a new assessment). Raises
    riskapp.io.InputError like `assess` when the parts do not fit."""
    s = settings()
    # the figures depend on the store's revision; the sync status (what differs from the
    # files) also on the register files, so their revision is part of the key as well
    key = f"{source().revision()}|{FileSource(Path(s.workspace)).revision()}"
    a = _assess_store(s.database, str(s.workspace), key, basis.value, probabilities)
    store = get_store()
    if store.seeded_now:  # filled from the workspace by this server: its alerts at once
        with _FIRST_ALERTS:
            if store.seeded_now:
                store.seeded_now = False
                first_alerts(a, store)
                return store_assessment(basis, probabilities)  # the store's new revision
    return a


_FIRST_ALERTS = threading.Lock()


def raise_first_alerts(basis: LossBasis) -> None:
    """On a store this server has just filled from its workspace, raise the alerts its data
    already calls for (`store_assessment` does, once) before a page lists alerts; a problem in
    the workspace is left for the pages that show it."""
    if get_store().seeded_now:
        with contextlib.suppress(InputError):
            store_assessment(basis)
