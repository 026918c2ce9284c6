"""A new workspace on a server serving several clients: its files (an existing folder, or one
made from a template of `riskapp init`) and its own database, registered with its report
branding defaults, the person who made it its admin. The one function behind
`riskapp workspaces create` and the dashboard's New workspace form."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskapp.assessment.scaffold import TEMPLATES
from riskapp.assessment.scaffold import create_workspace as scaffold
from riskapp.io.errors import InputError, Problem

if TYPE_CHECKING:
    from riskapp.settings import Settings
    from riskapp.store import Actor, WorkspaceInfo

__all__ = ["TEMPLATES", "files_folder", "new_workspace"]


def files_folder(settings: Settings, workspace_id: str) -> Path:
    """Where a workspace made from a template keeps its files unless told otherwise:
    `<data_dir>/workspaces/<id>` (next to the database, on the server)."""
    return (settings.data_dir / "workspaces" / workspace_id).resolve()


def new_workspace(
    settings: Settings,
    workspace_id: str,
    name: str,
    actor: Actor,
    *,
    template: str | None = None,
    files: Path | None = None,
    folder: Path | None = None,
    currency: str = "EUR",
    branding: Mapping[str, Any] | None = None,
) -> WorkspaceInfo:
    """Create workspace `workspace_id`: with `files`, on that existing folder of workspace
    files (its register and plans fill the new database); otherwise from `template` (factors,
    regions, curves, a status-quo scenario and an empty register) in `folder` (default
    `files_folder`). Nothing is left behind when it fails: a folder made here is removed."""
    from riskapp.store.tenancy import check_id
    from riskapp.store.tenants import create_workspace

    check_id(workspace_id)
    if (files is None) == (template is None):
        raise InputError(
            [
                Problem(
                    "workspace",
                    None,
                    "files",
                    "give either the folder of existing workspace files or a template "
                    f"({', '.join(TEMPLATES)})",
                )
            ]
        )
    made: Path | None = None
    if files is None:
        assert template is not None
        made = Path(folder) if folder is not None else files_folder(settings, workspace_id)
        scaffold(made, template, name=name or workspace_id, currency=currency)
        files = made
    try:
        return create_workspace(settings, workspace_id, name, Path(files), actor, branding)
    except BaseException:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        raise
