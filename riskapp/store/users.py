"""User accounts and login: local (argon2) and OpenID Connect identities, roles and login
throttling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from riskapp.io.errors import InputError, Problem
from riskapp.store import schema as t
from riskapp.store.auth import (
    USERNAME_RE,
    Actor,
    ActorKind,
    AuthError,
    LoginThrottled,
    Permission,
    Role,
    check_username,
    hash_password,
    locked_for,
    lockout,
    needs_rehash,
    source_key,
    verify_password,
)
from riskapp.store.core import StoreCore
from riskapp.store.records import from_db_time


@dataclass(frozen=True)
class UserInfo:
    username: str
    display_name: str
    role: Role
    created_at: datetime
    local_password: bool


class Users:
    """Manages user accounts and checks logins."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def has_users(self) -> bool:
        """Whether the server has accounts (then everyone logs in, in every workspace)."""
        with self.core.accounts_read() as conn:
            return self.core.count(conn, t.users) > 0

    def users(self) -> list[UserInfo]:
        """The accounts granted a role in this workspace, with that role."""
        u, g = t.users.c, t.workspace_grants.c
        with self.core.accounts_read() as conn:
            rows = conn.execute(
                select(u.username, u.display_name, g.role, u.created_at, u.password_hash)
                .join_from(t.users, t.workspace_grants, g.username == u.username)
                .where(g.workspace_id == self.core.workspace_id)
                .order_by(u.username)
            )
            return [
                UserInfo(
                    r.username,
                    r.display_name,
                    Role(r.role),
                    from_db_time(r.created_at),
                    r.password_hash.startswith("$argon2"),
                )
                for r in rows
            ]

    def add_user(
        self,
        username: str,
        password: str | None,
        role: Role,
        actor: Actor,
        display_name: str = "",
    ) -> UserInfo:
        """A local account (argon2 hash), or, with no password, an OpenID Connect identity
        (the username is the e-mail the provider reports)."""
        try:
            check_username(username)
            password_hash = hash_password(password) if password is not None else "oidc"
        except ValueError as exc:
            raise InputError([Problem("user", None, "username", str(exc))]) from None
        with self.core.accounts_write() as conn:
            first = self.core.count(conn, t.users) == 0
            if not (first and actor.kind is not ActorKind.USER):
                self.core.authorize(conn, actor, Permission.MANAGE_USERS)
            if first and role is not Role.ADMIN:
                raise InputError(
                    [
                        Problem(
                            "user",
                            None,
                            "role",
                            "the first user must be an admin, or nobody "
                            "could manage users once login is on",
                        )
                    ]
                )
            exists = conn.execute(
                select(t.users.c.username).where(t.users.c.username == username)
            ).first()
            if exists:
                hint = (
                    ""
                    if self.core.is_default
                    else "; give the account a role in this workspace with `riskapp workspaces "
                    f"grant {self.core.workspace_id} {username} ROLE`"
                )
                raise InputError(
                    [Problem("user", None, "username", f"user {username!r} exists{hint}")]
                )
            now = self.core.now()
            conn.execute(
                insert(t.users).values(
                    username=username,
                    display_name=display_name or username,
                    role=role.value,
                    password_hash=password_hash,
                    created_at=now,
                )
            )
            put_grant(conn, self.core.workspace_id, username, role, actor, now)
            self.core.log_account_change(
                conn,
                [
                    self.core.audit_entry(
                        actor,
                        "create",
                        "user",
                        username,
                        new={"role": role.value, "display_name": display_name or username},
                        version=1,
                        at=now,
                    )
                ],
            )
        return next(u for u in self.users() if u.username == username)

    def remove_user(self, username: str, actor: Actor) -> None:
        """In the default workspace: delete the account (and its roles everywhere). In another
        workspace: take the account's role there away (`revoke`)."""
        if not self.core.is_default:
            self.revoke(username, actor)
            return
        with self.core.accounts_write() as conn:
            self.core.authorize(conn, actor, Permission.MANAGE_USERS)
            row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
            if row is None:
                raise KeyError(f"no user {username!r}")
            role = self._last_admin_check(conn, username)
            conn.execute(delete(t.users).where(t.users.c.username == username))
            conn.execute(
                delete(t.workspace_grants).where(t.workspace_grants.c.username == username)
            )
            self.core.append_audit(
                conn,
                [
                    self.core.audit_entry(
                        actor,
                        "delete",
                        "user",
                        username,
                        old={"role": role or row.role},
                        at=self.core.now(),
                    )
                ],
            )

    def _last_admin_check(self, conn: Connection, username: str) -> str | None:
        """The account's role here (None: none); InputError when taking it away would leave
        this workspace's other people with no admin."""
        g = t.workspace_grants.c
        here = g.workspace_id == self.core.workspace_id
        role = conn.execute(select(g.role).where(here, g.username == username)).scalar()
        admins = conn.execute(
            select(func.count()).select_from(t.workspace_grants).where(here, g.role == "admin")
        ).scalar()
        others = (
            conn.execute(select(func.count()).select_from(t.workspace_grants).where(here)).scalar()
            or 0
        ) - (role is not None)
        if role == "admin" and admins == 1 and others > 0:
            raise InputError(
                [
                    Problem(
                        "user",
                        None,
                        "username",
                        f"{username!r} is the last admin; make someone else admin first",
                    )
                ]
            )
        return role

    def grant(self, username: str, role: Role, actor: Actor) -> None:
        """Give an existing account a role in this workspace (or change the one it has)."""
        with self.core.accounts_write() as conn:
            self.core.authorize(conn, actor, Permission.MANAGE_USERS)
            if conn.execute(select(t.users).where(t.users.c.username == username)).first() is None:
                raise KeyError(f"no user {username!r}; add the account first")
            g = t.workspace_grants.c
            old = conn.execute(
                select(g.role).where(
                    g.workspace_id == self.core.workspace_id, g.username == username
                )
            ).scalar()
            now = self.core.now()
            put_grant(conn, self.core.workspace_id, username, role, actor, now)
            if self.core.is_default:
                conn.execute(
                    update(t.users).where(t.users.c.username == username).values(role=role.value)
                )
            self.core.log_account_change(
                conn,
                [
                    self.core.audit_entry(
                        actor,
                        "edit" if old is not None else "grant",
                        "user",
                        username,
                        "role",
                        old,
                        role.value,
                        at=now,
                    )
                ],
            )

    def revoke(self, username: str, actor: Actor) -> None:
        """Take the account's role in this workspace away: it no longer sees the workspace."""
        with self.core.accounts_write() as conn:
            self.core.authorize(conn, actor, Permission.MANAGE_USERS)
            old = self._last_admin_check(conn, username)
            if old is None:
                raise KeyError(
                    f"{username!r} holds no role in workspace {self.core.workspace_id!r}"
                )
            g = t.workspace_grants.c
            conn.execute(
                delete(t.workspace_grants).where(
                    g.workspace_id == self.core.workspace_id, g.username == username
                )
            )
            self.core.log_account_change(
                conn,
                [
                    self.core.audit_entry(
                        actor, "revoke", "user", username, "role", old, None, at=self.core.now()
                    )
                ],
            )

    def set_role(self, username: str, role: Role, actor: Actor) -> None:
        """Change the role of an account in this workspace (it must hold one here)."""
        g = t.workspace_grants.c
        with self.core.accounts_read() as conn:
            held = conn.execute(
                select(g.role).where(
                    g.workspace_id == self.core.workspace_id, g.username == username
                )
            ).scalar()
        if held is None:
            raise KeyError(f"no user {username!r}")
        self.grant(username, role, actor)

    def set_password(self, username: str, password: str, actor: Actor) -> None:
        """Change a password: admins for anyone, a user for themselves."""
        try:
            new_hash = hash_password(password)
        except ValueError as exc:
            raise InputError([Problem("user", None, "password", str(exc))]) from None
        with self.core.accounts_write() as conn:
            if not (actor.kind is ActorKind.USER and actor.username == username):
                self.core.authorize(conn, actor, Permission.MANAGE_USERS)
            result = conn.execute(
                update(t.users).where(t.users.c.username == username).values(password_hash=new_hash)
            )
            if not result.rowcount:
                raise KeyError(f"no user {username!r}")
            self.core.log_account_change(
                conn,
                [
                    self.core.audit_entry(
                        actor,
                        "edit",
                        "user",
                        username,
                        "password",
                        "(hidden)",
                        "(changed)",
                        at=self.core.now(),
                    )
                ],
            )

    def authenticate(self, username: str, password: str, source: str | None = None) -> Actor:
        """The actor for a correct username and password.

        Failed logins are counted per username and per source address (the browser's address,
        when the caller knows it): after `login_max_failures` failures in a row for one username,
        or `login_max_failures_per_source` from one address across any usernames (password
        spraying), that key is locked for a while, doubling with each further failure
        (LoginThrottled, checked before the password). The counts live in the database, so every
        server of the team shares them."""
        name = username.strip()[:200]
        keys = [name] if USERNAME_RE.match(name) else []  # text that is no username locks nobody
        if source:
            keys.append(source_key(source))
        now = self.core.now()
        with self.core.accounts_write() as conn:
            rows = {
                r.username: r
                for r in conn.execute(
                    select(t.login_throttle).where(t.login_throttle.c.username.in_(keys))
                )
            }
            for key in keys:
                wait = locked_for(rows[key].locked_until if key in rows else None, now)
                if wait is not None:
                    raise LoginThrottled(name if key == name else "this address", wait)
            row = conn.execute(select(t.users).where(t.users.c.username == name)).first()
        ok = verify_password(row.password_hash if row else None, password)
        with self.core.accounts_write() as conn:
            if ok and row is not None:
                conn.execute(delete(t.login_throttle).where(t.login_throttle.c.username.in_(keys)))
                if needs_rehash(row.password_hash):
                    conn.execute(
                        update(t.users)
                        .where(t.users.c.username == name)
                        .values(password_hash=hash_password(password))
                    )
                role = self._role_here(conn, name) or Role(row.role)
                return Actor(name, role, ActorKind.USER, row.display_name)
            settings = self.core.settings
            first_wait = timedelta(seconds=settings.login_lockout_seconds)
            locked: tuple[str, timedelta] | None = None
            for key in keys:
                limit = (
                    settings.login_max_failures
                    if key == name
                    else settings.login_max_failures_per_source
                )
                failures = (rows[key].failures if key in rows else 0) + 1
                wait = lockout(failures, limit, first_wait)
                values = {"failures": failures, "locked_until": now + wait if wait else None}
                if key in rows:
                    conn.execute(
                        update(t.login_throttle)
                        .where(t.login_throttle.c.username == key)
                        .values(**values)
                    )
                else:
                    conn.execute(insert(t.login_throttle).values(username=key, **values))
                if wait is not None and locked is None:
                    locked = (name if key == name else "this address", wait)
        if locked is not None:
            raise LoginThrottled(*locked)
        raise AuthError("wrong username or password")

    def oidc_actor(self, email: str) -> Actor:
        """The actor for an identity confirmed by the OpenID Connect provider; it must have been
        added as a user (its role decides what it may do)."""
        with self.core.accounts_read() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username == email)).first()
            role = self._role_here(conn, email) if row is not None else None
        if row is None:
            raise AuthError(f"{email} is not a user of this workspace; ask an admin to add it")
        return Actor(email, role or Role(row.role), ActorKind.USER, row.display_name)

    def _role_here(self, conn: Connection, username: str) -> Role | None:
        g = t.workspace_grants.c
        value = conn.execute(
            select(g.role).where(g.workspace_id == self.core.workspace_id, g.username == username)
        ).scalar()
        return Role(value) if value is not None else None


def put_grant(
    conn: Connection, workspace_id: str, username: str, role: Role, actor: Actor, at: datetime
) -> None:
    """Insert or replace the role of `username` in `workspace_id`."""
    g = t.workspace_grants.c
    conn.execute(
        delete(t.workspace_grants).where(g.workspace_id == workspace_id, g.username == username)
    )
    conn.execute(
        insert(t.workspace_grants).values(
            workspace_id=workspace_id,
            username=username,
            role=role.value,
            granted_at=at,
            granted_by=actor.label,
        )
    )
