"""Reading and writing riskapp files: workspaces, scenario files, registers and results."""

from riskapp.io.errors import InputError, Problem
from riskapp.io.workspace import WorkspaceManifest, WorkspacePaths, load_workspace

__all__ = ["InputError", "Problem", "WorkspaceManifest", "WorkspacePaths", "load_workspace"]
