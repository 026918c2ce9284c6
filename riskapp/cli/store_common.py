"""Shared pieces of the team database commands (riskapp/cli/store.py, team.py, admin.py): the
`--database` option, opening the store and its settings, the command line's audit actor
(`system:cli-<login name>`), and how refusals and a busy database are reported.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.text import Text

from riskapp.cli.common import err, fail, fail_message
from riskapp.io.errors import InputError, Problem

if TYPE_CHECKING:
    from riskapp.settings import Settings
    from riskapp.store import Actor, Store


DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL of the database (default: RISKAPP_DATABASE_URL or the SQLite file "
        "in RISKAPP_DATA_DIR).",
        show_default=False,
    ),
]


def open_store(
    database: str | None, seed: bool | None = None, workspace: str | None = None
) -> Store:
    """The team store of the chosen workspace (`workspace`, or `riskapp --workspace-id`,
    RISKAPP_WORKSPACE_ID; refused when `--as USER` holds no role in it); an empty database
    is seeded from the workspace files when `seed` says so, or (None) when the settings do
    (RISKAPP_SEED_DEMO, default true)."""
    from riskapp.store import AccessDenied, Store
    from riskapp.store.engine import SchemaNotCurrent

    settings = load_settings(database)
    try:
        return Store.open(settings, seed=seed, workspace=workspace)
    except InputError as exc:  # the workspace files that would seed an empty database
        fail(exc.problems, "the database was not opened: fix the workspace files first")
    except SchemaNotCurrent as exc:
        fail_message(str(exc), code=1)
    except AccessDenied as exc:  # no role in the workspace, or no such workspace
        fail_message(str(exc), code=1)


@contextlib.contextmanager
def store_session(
    database: str | None,
    *,
    workspace: str | None = None,
    seed: bool | None = None,
    note: str = "",
) -> Iterator[Store]:
    """The store one command works on (`open_store`), closed when the command is done; the
    store's refusals reported as every command reports them: bad input with every problem
    (`note` after the count, e.g. "nothing was imported"), no right to do it, or an unknown id
    (each exit 1, nothing written)."""
    from riskapp.store import AccessDenied

    store = open_store(database, seed=seed, workspace=workspace)
    try:
        yield store
    except InputError as exc:
        fail(exc.problems, note)
    except AccessDenied as exc:
        refused(exc)
    except KeyError as exc:  # an unknown alert, account, ...
        fail_message(str(exc.args[0]) if exc.args else "not found", 1)
    finally:
        store.close()


def load_settings(database: str | None) -> Settings:
    from pydantic import ValidationError

    from riskapp.settings import Settings

    try:
        return Settings() if database is None else Settings(database_url=database)
    except ValidationError as exc:
        for e in exc.errors():
            err.print(Text(f"settings [{'.'.join(map(str, e['loc']))}]: {e['msg']}", "red"))
        raise typer.Exit(2) from None


def cli_actor() -> Actor:
    """Who the command acts as: the account of `riskapp --as USER` (RISKAPP_USER), whose
    role in the workspace the store checks; otherwise the operator holding the database's
    credentials, `system:cli-<login name>`."""
    from riskapp.store import Actor, ActorKind, Role

    user = load_settings(None).user
    if user:
        return Actor(user, Role.VIEWER, ActorKind.USER, user)
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor.system(f"cli-{name}")


def import_failed(problems: list[Problem]) -> NoReturn:
    fail(problems, "nothing was imported")


def refused(exc: Exception) -> None:
    err.print(Text(str(exc), style="red"), soft_wrap=True)
    raise typer.Exit(1)


Command = TypeVar("Command", bound=Callable[..., Any])


def busy_refused(command: Command) -> Command:
    """A command that gives up because another change held the database past the busy timeout
    says so in one line (nothing was written) and exits 1, without a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from riskapp.store import StoreBusyError

        try:
            return command(*args, **kwargs)
        except StoreBusyError as exc:
            fail_message(str(exc), 1)

    return run  # type: ignore[return-value]
