"""Who may do what: roles, the acting person, password hashing (argon2id) and login throttling.

The checks run inside the store (`StoreCore.authorize`), so a page that forgets to hide a button
still cannot change anything its user's role does not allow.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read the workspace"
    EXPORT = "export"
    EDIT = "edit assets and plans"
    SAVE_ASSESSMENT = "save assessments"
    IMPORT = "import registers and plans"
    MANAGE_USERS = "manage users"
    RESTORE = "restore a workspace backup"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ, Permission.EXPORT}),
    Role.ANALYST: frozenset(
        {Permission.READ, Permission.EXPORT, Permission.EDIT, Permission.SAVE_ASSESSMENT}
    ),
    Role.ADMIN: frozenset(Permission),
}


def minimum_role(permission: Permission) -> Role:
    return next(r for r in Role if permission in ROLE_PERMISSIONS[r])


class ActorKind(StrEnum):
    USER = "user"  # logged in with a local account or OpenID Connect
    LOCAL = "local"  # the local demo with no login configured (no users in the store)
    SYSTEM = "system"  # the command line, which holds the database credentials itself


@dataclass(frozen=True)
class Actor:
    """The person (or tool) on whose behalf the store acts; recorded in the audit trail.

    A USER actor's role is looked up again in the store on every change, so removing a user or
    lowering their role takes effect at once, whatever a browser session still holds.
    """

    username: str
    role: Role
    kind: ActorKind = ActorKind.USER
    display_name: str = ""

    @classmethod
    def local(cls) -> Actor:
        """The local demo without login: allowed everything, only while no user exists."""
        return cls("local", Role.ADMIN, ActorKind.LOCAL, "Local user (no login configured)")

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(name, Role.ADMIN, ActorKind.SYSTEM, name)

    @property
    def label(self) -> str:
        """How the audit trail names the actor."""
        if self.kind is ActorKind.USER:
            return self.username
        return f"{self.kind.value}:{self.username}"

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


class AuthError(Exception):
    """Login refused (wrong username or password)."""


class LoginThrottled(AuthError):
    """Too many failed logins for this username or from this address: try again after
    `retry_after`."""

    def __init__(self, username: str, retry_after: timedelta) -> None:
        self.username = username
        self.retry_after = retry_after
        seconds = max(1, round(retry_after.total_seconds()))
        who = username if username == "this address" else repr(username)
        super().__init__(f"too many failed logins for {who}; try again in {seconds} s")


USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$")
MIN_PASSWORD = 8
MAX_LOCKOUT = timedelta(hours=1)

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@functools.cache
def _dummy_hash() -> str:
    """The hash an unknown user's password is checked against, so that the check takes as long
    as a known user's. Made on first use (it costs as much as a login): importing the store,
    as the dashboard and the command line do at start-up, does not pay for it."""
    return _hasher.hash("riskapp-dummy-password")


def check_username(username: str) -> str:
    if not USERNAME_RE.match(username):
        raise ValueError(
            "a username is 1-64 letters, digits, '_', '.', '@' or '-', starting with a letter "
            f"or digit; got {username!r}"
        )
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; with no hash (unknown user) still spends the same time."""
    dummy = _dummy_hash()  # first, known user or not: the first check pays for it either way
    try:
        return _hasher.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def lockout(failures: int, max_failures: int, first_lockout: timedelta) -> timedelta | None:
    """How long a username is locked after `failures` failed logins in a row (None: not locked).

    Locked from the `max_failures`-th failure on; each further failure doubles the wait, up to
    an hour.
    """
    if failures < max_failures:
        return None
    doubling = min(failures - max_failures, 20)
    wait: timedelta = min(first_lockout * (2**doubling), MAX_LOCKOUT)
    return wait


def source_key(address: str) -> str:
    """The throttle key of a source address (a space: no username can take it)."""
    return f"source {address.strip()[:100]}"


def locked_for(locked_until: datetime | None, now: datetime) -> timedelta | None:
    if locked_until is None or locked_until <= now:
        return None
    return locked_until - now


def client_source(
    peer: str | None, forwarded_for: str | None, trusted_proxies: tuple[str, ...]
) -> str | None:
    """The address a login attempt comes from, for throttling per source.

    `peer` is the address of the connection. When it is one of `trusted_proxies` (addresses or
    networks, e.g. "127.0.0.1" or "10.0.0.0/8"), the client is the right-most address in the
    proxy's X-Forwarded-For header that is not itself a trusted proxy (the left part of the
    header is whatever the client claims, so it is never believed). Otherwise the peer is the
    source: a client cannot choose its address by sending the header itself.
    """
    if not peer:
        return None
    networks = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip().strip("[]"))
        except ValueError:
            return False
        return any(ip in n for n in networks)

    if not networks or not trusted(peer) or not forwarded_for:
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not trusted(hop):
            try:
                return str(ipaddress.ip_address(hop.strip("[]")))
            except ValueError:
                return peer  # a garbled header: count it against the proxy
    return peer
