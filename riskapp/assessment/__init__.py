"""The application layer: one assessment behind every surface (no UI code).

`assess(source)` scores a `WorkspaceSource` (`FileSource`, `StoreSource`, `MemorySource`) and
evaluates its plans; the dashboard's pages, the CLI, the Python API and every report format
compute from it. The view-models the pages and reports share live beside it: `whatif`,
`tables`, `risk`, `baseline`, `register`, `zones` (`zone_table`: each zone's assets, loss and
peak intensity).

Its names are imported on first use (riskapp.lazy): importing one module of the package does
not load the others, so the command line starts without what a command does not use.
"""

from typing import TYPE_CHECKING

from riskapp.lazy import attach

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment, assess, key_figures
    from riskapp.assessment.headline import Headline, HeadlineFigure
    from riskapp.assessment.sources import (
        FileSource,
        MemorySource,
        SourceInfo,
        StoreSource,
        SyncStatus,
        WorkspaceSource,
        choose_source,
        sync_status,
    )
    from riskapp.assessment.zones import zone_table

__all__ = [
    "Assessment",
    "FileSource",
    "Headline",
    "HeadlineFigure",
    "MemorySource",
    "SourceInfo",
    "StoreSource",
    "SyncStatus",
    "WorkspaceSource",
    "assess",
    "choose_source",
    "key_figures",
    "sync_status",
    "zone_table",
]

__getattr__ = attach(__name__, __file__)
