"""Reading and writing riskapp files: workspaces, scenario files, registers and results.

Its names are imported on first use (riskapp.lazy): importing one module of the package does
not load the others, so the command line starts without what a command does not use.
"""

from typing import TYPE_CHECKING

from riskapp.lazy import attach

if TYPE_CHECKING:
    from riskapp.io.errors import InputError, Problem
    from riskapp.io.workspace import WorkspaceManifest, WorkspacePaths, load_workspace

__all__ = ["InputError", "Problem", "WorkspaceManifest", "WorkspacePaths", "load_workspace"]

__getattr__ = attach(__name__, __file__)
