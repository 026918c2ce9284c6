"""Register, Audit and History pages and the login gate (AppTest, SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from riskapp.store import Actor, Role, Store
from riskapp.store.assessments import save_current
from riskapp.store.errors import BUSY_MESSAGE
from riskapp.store.records import utcnow
from tests.store.conftest import ADMIN, SYSTEM, TINY, OpenStore, held_write_lock

OTHER_SERVER = Actor.system("other-server")
VIEWS = Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "views"


@pytest.fixture
def page_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(TINY))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return db_url


@pytest.fixture
def shared(page_env: str, open_store: OpenStore) -> Store:
    """The database the pages use, opened by the test too (another 'server')."""
    return open_store(page_env, clock=utcnow)  # the pages' default filters use today


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(VIEWS / f"{name}.py"), default_timeout=30)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first read-only table on the page with this column (st.dataframe has no key in
    AppTest unless it allows selections)."""
    for el in at.dataframe:
        frame = el.value
        if el.editing_mode == "read_only" and column in frame.columns:
            return frame
    raise AssertionError(f"no table with a {column!r} column")


def login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()  # the form's submit button
    at.run()
    return at


def gate_app() -> None:
    """What app.py does: the gate (sidebar status), then a page that asks again."""
    import streamlit as st

    from riskapp.dashboard.store_view import login_gate

    login_gate()
    actor = login_gate(sidebar=False)
    st.write(f"page for {actor.label}")


def test_without_users_the_demo_runs_without_login_and_says_so(shared: Store) -> None:
    at = AppTest.from_function(gate_app)
    at.run()
    assert [c.value for c in at.sidebar.caption] == [
        "Local demo: no login configured; everyone has every right."
    ]
    assert at.markdown[0].value == "page for local:local"
    editor = page("register").data_editor[0]
    assert editor.value["id"].tolist() == ["P1", "P2", "O1"]


def test_the_gate_signs_in_once_and_logs_out(shared: Store) -> None:
    shared.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
    at = AppTest.from_function(gate_app)
    at.run()
    assert at.title[0].value == "Log in"
    assert not at.markdown or "page for" not in at.markdown[0].value
    login(at, "alice", "alice-password")
    assert not at.exception
    assert "Signed in as **alice** (admin)" in at.sidebar.caption[0].value
    assert at.markdown[0].value == "page for alice"
    at.sidebar.button(key="riskapp_logout").click()
    at.run()
    assert at.title[0].value == "Log in"


def test_with_users_a_login_is_required(shared: Store) -> None:
    shared.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
    at = page("register")
    assert at.title[0].value == "Log in"
    assert not at.data_editor
    login(at, "alice", "wrong-password")
    assert "Wrong username or password" in at.error[0].value
    login(at, "alice", "alice-password")
    assert at.title[0].value == "Asset register and plans"


def test_failed_logins_are_throttled_on_the_page(shared: Store) -> None:
    shared.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
    at = page("register")
    for _ in range(3):  # login_max_failures is 5 by default; the page uses real settings
        login(at, "alice", "nope")
    for _ in range(2):
        login(at, "alice", "nope")
    assert "Too many failed logins" in at.error[0].value


def test_a_viewer_sees_the_register_read_only(shared: Store) -> None:
    shared.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
    shared.add_user("carol", "carol-password", Role.VIEWER, ADMIN)
    at = login(page("register"), "carol", "carol-password")
    assert not at.data_editor
    assert any("can read and export" in i.value for i in at.info)


def test_editing_the_register_saves_with_audit(shared: Store) -> None:
    at = page("register")
    key = at.data_editor[0].key
    at.session_state[key] = {
        "edited_rows": {0: {"owner": "Ops North"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    save = at.button(key="reg_save_assets")
    assert not save.disabled
    save.click()
    at.run()
    assert not at.exception
    assert "Saved: 0 added, 1 changed, 0 removed" in at.success[0].value
    assert shared.asset("P1").asset.owner == "Ops North"
    (entry,) = shared.audit(action="edit")
    assert (entry.actor, entry.field, entry.new) == ("local:local", "owner", "Ops North")


def test_an_invalid_edit_lists_problems_and_cannot_be_saved(shared: Store) -> None:
    at = page("register")
    at.session_state[at.data_editor[0].key] = {
        "edited_rows": {1: {"country": "XXX"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert "1 problem(s)" in at.error[0].value
    problems = table_with(at, "reason")
    assert problems[["row", "column"]].to_numpy().tolist() == [[3, "country"]]
    assert at.button(key="reg_save_assets").disabled


def test_a_concurrent_change_is_refused_with_what_changed(shared: Store) -> None:
    at = page("register")  # this person opens the register
    p1 = shared.asset("P1")
    shared.update_asset("P1", {"name": "Renamed meanwhile"}, p1.version, OTHER_SERVER)
    at.session_state[at.data_editor[0].key] = {
        "edited_rows": {0: {"owner": "Mine"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="reg_save_assets").click()
    at.run()
    assert "someone else changed these records" in at.error[0].value
    assert "Renamed meanwhile" in " ".join(m.value for m in at.markdown)
    assert shared.asset("P1").asset.owner == "Ops"


def test_a_busy_database_is_a_plain_warning_and_nothing_is_saved(
    shared: Store, page_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISKAPP_DATABASE_BUSY_TIMEOUT", "0.2")
    at = page("register")
    at.session_state[at.data_editor[0].key] = {
        "edited_rows": {0: {"owner": "Mine"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    with held_write_lock(page_env):  # another change holds the database past the timeout
        at.button(key="reg_save_assets").click()
        at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [BUSY_MESSAGE]
    assert not at.success
    assert shared.asset("P1").asset.owner == "Ops"
    at.button(key="reg_save_assets").click()  # the edit is still on the page: save again
    at.run()
    assert "Saved: 0 added, 1 changed, 0 removed" in at.success[0].value
    assert shared.asset("P1").asset.owner == "Mine"


def test_plan_status_edit(shared: Store) -> None:
    at = page("register")
    plan_editor = at.data_editor[1]
    at.session_state[plan_editor.key] = {
        "edited_rows": {0: {"status": "ready", "review_date": "2020-01-31"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="reg_save_plans").click()
    at.run()
    assert not at.exception
    shield = shared.plan("shield")
    assert shield.plan.status.value == "ready"
    assert shield.review_date == date(2020, 1, 31)
    assert any("past their review date" in w.value for w in at.warning)


def test_import_preview_lists_problems_by_row_then_imports(shared: Store) -> None:
    at = page("register")
    bad = (TINY / "assets.csv").read_text() + "Z1,Bad,plant,XXX,,,1,0,EUR,3,,,\n"
    at.file_uploader(key="imp_file").set_value(("assets.csv", bad.encode(), "text/csv"))
    at.run()
    assert "1 problem(s) in assets.csv" in at.error[0].value
    assert table_with(at, "reason")[["row", "column"]].to_numpy().tolist() == [[5, "country"]]
    good = bad.replace("XXX", "DEU")
    at.file_uploader(key="imp_file").set_value(("assets.csv", good.encode(), "text/csv"))
    at.run()
    assert "1 to add, 0 to change, 0 to remove" in at.success[0].value
    at.button(key="imp_commit").click()
    at.run()
    assert not at.exception
    assert [a.id for a in shared.register()] == ["P1", "P2", "O1", "Z1"]
    assert shared.audit(entity_id="Z1")[0].note == "import assets.csv (replace)"


def test_audit_page_filters(shared: Store) -> None:
    p1 = shared.asset("P1")
    shared.update_asset("P1", {"owner": "Ops North"}, p1.version, SYSTEM)
    at = page("audit")
    assert len(table_with(at, "actor")) == len(shared.audit())
    at.selectbox(key="aud_action").set_value("edit")
    at.run()
    table = table_with(at, "actor")
    assert table["field"].tolist() == ["owner"]
    assert table["new"].tolist() == ['"Ops North"']
    at.text_input(key="aud_record").input("P2")
    at.run()
    assert table_with(at, "actor").empty
    assert not at.data_editor  # nothing on the page edits the trail


def test_audit_page_verifies_the_chain(shared: Store) -> None:
    at = page("audit")
    assert not at.success
    at.button(key="aud_verify").click()
    at.run()
    (ok,) = at.success
    assert f"Intact: {len(shared.audit())} entries" in ok.value
    with shared.engine.begin() as conn:  # an owner cutting a guard out
        if shared.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
    at.button(key="aud_verify").click()
    at.run()
    (broken,) = at.error
    assert "Not intact" in broken.value and "append-only guard audit_log_no_" in broken.value


def test_history_page_compares_and_charts(shared: Store) -> None:
    save_current(shared, "first", date(2025, 1, 1), SYSTEM)
    p2 = shared.asset("P2")
    shared.update_asset("P2", {"replacement_value": 400.0}, p2.version, SYSTEM)
    save_current(shared, "second", date(2025, 2, 1), SYSTEM)
    at = page("history")
    trend = at.get("plotly_chart")[0]
    assert "Key figures across saved assessments" in trend.proto.spec
    at.radio(key="his_dimension").set_value("asset")
    at.run()
    movers = table_with(at, "why")
    assert movers["asset"].iloc[0] == "P2"
    assert "replacement_value 200 -> 400" in movers["why"].iloc[0]


def test_history_page_saves_an_assessment(shared: Store) -> None:
    at = page("history")
    at.text_input(key="his_label").input("From the page")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert [s.label for s in shared.assessments()] == ["From the page"]
