"""Users and roles: argon2 hashes, role checks inside the store, throttled logins."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from riskapp.domain import Asset
from riskapp.io import InputError
from riskapp.settings import Settings
from riskapp.store import (
    AccessDenied,
    Actor,
    AuthError,
    LoginThrottled,
    Permission,
    Role,
    Store,
)
from riskapp.store import schema as t
from riskapp.store.assessments import save_current
from riskapp.store.auth import lockout
from tests.store.conftest import ADMIN, ANALYST, SYSTEM, VIEWER, Clock


def test_passwords_are_stored_as_argon2_hashes(team: Store) -> None:
    with team.engine.connect() as conn:
        hashes = dict(conn.execute(select(t.users.c.username, t.users.c.password_hash)).all())
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert not any("password" in h for h in hashes.values())


def test_list_add_remove(team: Store) -> None:
    assert [(u.username, u.role) for u in team.users()] == [
        ("alice", Role.ADMIN),
        ("bob", Role.ANALYST),
        ("carol", Role.VIEWER),
    ]
    team.add_user("dave", None, Role.VIEWER, ADMIN, display_name="Dave (SSO)")
    assert not next(u for u in team.users() if u.username == "dave").local_password
    team.remove_user("dave", ADMIN)
    assert "dave" not in [u.username for u in team.users()]
    assert [e.entity_id for e in team.audit(entity="user")][:2] == ["dave", "dave"]


def test_user_rules(store: Store) -> None:
    with pytest.raises(InputError, match="first user must be an admin"):
        store.add_user("bob", "bob-password", Role.ANALYST, SYSTEM)
    with pytest.raises(InputError, match="at least 8"):
        store.add_user("alice", "short", Role.ADMIN, SYSTEM)
    with pytest.raises(InputError, match="username"):
        store.add_user("bad name!", "long-enough", Role.ADMIN, SYSTEM)
    store.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
    with pytest.raises(InputError, match="exists"):
        store.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
    store.add_user("bob", "bob-password", Role.ANALYST, ADMIN)
    with pytest.raises(InputError, match="last admin"):
        store.remove_user("alice", ADMIN)


def test_the_local_demo_is_admin_only_while_there_are_no_users(store: Store) -> None:
    local = Actor.local()
    assert store.check(local, Permission.MANAGE_USERS)
    store.add_user("alice", "alice-password", Role.ADMIN, local)  # the first user
    assert not store.check(local, Permission.READ)
    p1 = store.asset("P1")
    with pytest.raises(AccessDenied, match="login required"):
        store.update_asset("P1", {"owner": "x"}, p1.version, local)


def test_roles_are_checked_by_the_store(team: Store) -> None:
    p1 = team.asset("P1")
    with pytest.raises(AccessDenied, match=r"carol \(viewer\) may not edit"):
        team.update_asset("P1", {"owner": "x"}, p1.version, VIEWER)
    with pytest.raises(AccessDenied, match="analyst role"):
        team.update_plan("shield", {"status": "ready"}, team.plan("shield").version, VIEWER)
    with pytest.raises(AccessDenied, match="admin role"):
        team.add_user("eve", "eve-password", Role.ADMIN, ANALYST)
    with pytest.raises(AccessDenied):
        team.export_workspace(ANALYST)
    with pytest.raises(AccessDenied):
        save_current(team, "x", p1.updated_at.date(), VIEWER)
    team.update_asset("P1", {"owner": "x"}, p1.version, ANALYST)
    assert team.asset("P1").asset.owner == "x"


def test_a_forged_role_is_ignored_the_stored_role_counts(team: Store) -> None:
    forged = Actor("carol", Role.ADMIN)  # carol is a viewer in the database
    with pytest.raises(AccessDenied, match=r"\(viewer\)"):
        team.add_asset(
            Asset(id="N", name="N", type="office", country="DEU", replacement_value=1), forged
        )


def test_removing_or_demoting_a_user_takes_effect_at_once(team: Store) -> None:
    bob = team.authenticate("bob", "bob-password")
    team.set_role("bob", Role.VIEWER, ADMIN)
    p1 = team.asset("P1")
    with pytest.raises(AccessDenied):
        team.update_asset("P1", {"owner": "x"}, p1.version, bob)
    team.remove_user("bob", ADMIN)
    with pytest.raises(AccessDenied, match="no longer exists"):
        team.update_asset("P1", {"owner": "x"}, p1.version, bob)


def test_login(team: Store) -> None:
    actor = team.authenticate("bob", "bob-password")
    assert (actor.username, actor.role) == ("bob", Role.ANALYST)
    with pytest.raises(AuthError, match="wrong username or password"):
        team.authenticate("bob", "wrong-password")
    with pytest.raises(AuthError, match="wrong username or password"):
        team.authenticate("nobody", "whatever-password")


def test_failed_logins_are_throttled(team: Store, clock: Clock) -> None:
    for _ in range(2):
        with pytest.raises(AuthError):
            team.authenticate("bob", "guess-1")
    with pytest.raises(LoginThrottled) as third:  # login_max_failures = 3 in the tests
        team.authenticate("bob", "guess-3")
    assert third.value.retry_after == timedelta(seconds=60)
    with pytest.raises(LoginThrottled):  # even the right password waits
        team.authenticate("bob", "bob-password")
    clock.advance(seconds=61)
    with pytest.raises(LoginThrottled) as fourth:  # the next failure doubles the wait
        team.authenticate("bob", "guess-4")
    assert fourth.value.retry_after == timedelta(seconds=120)
    clock.advance(seconds=121)
    assert team.authenticate("bob", "bob-password").username == "bob"
    with pytest.raises(AuthError) as fresh:  # a success starts the count again
        team.authenticate("bob", "guess-5")
    assert not isinstance(fresh.value, LoginThrottled)


def test_unknown_usernames_are_throttled_too(team: Store) -> None:
    for _ in range(2):
        with pytest.raises(AuthError):
            team.authenticate("mallory", "x")
    with pytest.raises(LoginThrottled):
        team.authenticate("mallory", "x")


def test_password_spraying_from_one_address_is_throttled(
    team: Store, settings: Settings, clock: Clock
) -> None:
    """One password tried across many usernames: no username reaches its own limit, the
    address reaches its limit (login_max_failures_per_source) and waits, for every username;
    another address is not slowed."""
    limit = settings.login_max_failures_per_source
    names = [f"user{i}" for i in range(limit - 1)] + ["alice"]
    for name in names[:-1]:
        with pytest.raises(AuthError) as failed:
            team.authenticate(name, "Summer2026!", source="203.0.113.9")
        assert not isinstance(failed.value, LoginThrottled)
    with pytest.raises(LoginThrottled, match="this address") as locked:
        team.authenticate(names[-1], "Summer2026!", source="203.0.113.9")
    assert locked.value.retry_after == timedelta(seconds=settings.login_lockout_seconds)
    with pytest.raises(LoginThrottled, match="this address"):  # even the right password waits
        team.authenticate("bob", "bob-password", source="203.0.113.9")
    assert team.authenticate("bob", "bob-password", source="198.51.100.7").username == "bob"
    clock.advance(seconds=settings.login_lockout_seconds + 1)
    assert team.authenticate("bob", "bob-password", source="203.0.113.9").username == "bob"


def test_a_typed_name_cannot_lock_an_address(team: Store) -> None:
    """Throttle keys of addresses hold a space, which no username can: typing one as the
    username locks nothing but the attempt."""
    for _ in range(5):
        with pytest.raises(AuthError) as failed:
            team.authenticate("source 198.51.100.7", "x")
        assert not isinstance(failed.value, LoginThrottled)
    assert team.authenticate("bob", "bob-password", source="198.51.100.7").username == "bob"


def test_lockout_policy() -> None:
    first = timedelta(seconds=60)
    assert [lockout(n, 5, first) for n in (1, 4)] == [None, None]
    assert lockout(5, 5, first) == first
    assert lockout(7, 5, first) == 4 * first
    assert lockout(50, 5, first) == timedelta(hours=1)


def test_password_change(team: Store) -> None:
    bob = team.authenticate("bob", "bob-password")
    team.set_password("bob", "new-bob-password", bob)  # for himself
    with pytest.raises(AccessDenied):
        team.set_password("alice", "stolen-password", bob)
    assert team.authenticate("bob", "new-bob-password").username == "bob"
    (entry,) = team.audit(entity_id="bob", action="edit")
    assert (entry.old, entry.new) == ("(hidden)", "(changed)")


def test_openid_identities_must_be_registered(team: Store) -> None:
    with pytest.raises(AuthError, match="not a user"):
        team.oidc_actor("stranger@example.com")
    team.add_user("dana@example.com", None, Role.ANALYST, ADMIN)
    assert team.oidc_actor("dana@example.com").role is Role.ANALYST
    with pytest.raises(AuthError):
        team.authenticate("dana@example.com", "anything-at-all")


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "source"),
    [
        # no proxy configured: the connection is the source, whatever the header claims
        ("203.0.113.7", "198.51.100.1", (), "203.0.113.7"),
        # a client that is not the proxy cannot choose its address with the header
        ("203.0.113.7", "198.51.100.1", ("127.0.0.1",), "203.0.113.7"),
        # through the trusted proxy: the client it forwards for
        ("127.0.0.1", "198.51.100.1", ("127.0.0.1",), "198.51.100.1"),
        # the left part is what the client claims; the right-most untrusted hop counts
        ("10.0.0.5", "6.6.6.6, 198.51.100.1, 10.0.0.9", ("10.0.0.0/8",), "198.51.100.1"),
        # a proxy that sends no header, or garbage, is counted as itself
        ("127.0.0.1", None, ("127.0.0.1",), "127.0.0.1"),
        ("127.0.0.1", "not-an-address", ("127.0.0.1",), "127.0.0.1"),
        ("::1", "2001:db8::5", ("::1",), "2001:db8::5"),
        (None, "198.51.100.1", ("127.0.0.1",), None),
    ],
)
def test_the_source_of_a_login_behind_a_trusted_proxy(
    peer: str | None, forwarded: str | None, trusted: tuple[str, ...], source: str | None
) -> None:
    from riskapp.store import client_source

    assert client_source(peer, forwarded, trusted) == source


def test_clients_behind_one_proxy_are_throttled_apart(team: Store) -> None:
    """Behind a trusted proxy one spraying client is locked out, another client is not (without
    the setting both would share the proxy's address and its lockout)."""
    from riskapp.store import client_source

    sprayer = client_source("127.0.0.1", "198.51.100.66", ("127.0.0.1",))
    colleague = client_source("127.0.0.1", "198.51.100.10", ("127.0.0.1",))
    for name in [f"user{i}" for i in range(12)]:
        with contextlib.suppress(AuthError):
            team.authenticate(name, "Winter2025!", source=sprayer)
    with pytest.raises(LoginThrottled):
        team.authenticate("alice", "alice-password", source=sprayer)
    assert team.authenticate("alice", "alice-password", source=colleague).username == "alice"


def test_trusted_proxies_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from riskapp.settings import Settings

    monkeypatch.setenv("RISKAPP_TRUSTED_PROXIES", '["127.0.0.1", "10.0.0.0/8"]')
    assert Settings(_env_file=None).trusted_proxies == ("127.0.0.1", "10.0.0.0/8")  # type: ignore[call-arg]
    monkeypatch.setenv("RISKAPP_TRUSTED_PROXIES", '["proxy.example"]')
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(_env_file=None)  # type: ignore[call-arg]
