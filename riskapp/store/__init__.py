"""The team workspace store: asset register, plans, saved assessments, audit trail and users in
SQLite (default) or PostgreSQL, behind one interface (`Store`)."""

from riskapp.store.auth import (
    Actor,
    ActorKind,
    AuthError,
    LoginThrottled,
    Permission,
    Role,
    client_source,
)
from riskapp.store.errors import (
    AccessDenied,
    Conflict,
    ConflictError,
    StoreBusyError,
    WorkspaceAccessDenied,
)
from riskapp.store.records import AuditEntry, ChangeSummary, FieldChange, StoredAsset, StoredPlan
from riskapp.store.store import (
    AssessmentSummary,
    AssetEdit,
    ImportPreview,
    PlanEdit,
    SavedAssessment,
    Store,
    UserInfo,
)
from riskapp.store.tenancy import WorkspaceInfo
from riskapp.store.validation import Table
from riskapp.store.workspace import FileInputs, build_workspace, load_files

__all__ = [
    "AccessDenied",
    "Actor",
    "ActorKind",
    "AssessmentSummary",
    "AssetEdit",
    "AuditEntry",
    "AuthError",
    "ChangeSummary",
    "Conflict",
    "ConflictError",
    "FieldChange",
    "FileInputs",
    "ImportPreview",
    "LoginThrottled",
    "Permission",
    "PlanEdit",
    "Role",
    "SavedAssessment",
    "Store",
    "StoreBusyError",
    "StoredAsset",
    "StoredPlan",
    "Table",
    "UserInfo",
    "WorkspaceAccessDenied",
    "WorkspaceInfo",
    "build_workspace",
    "client_source",
    "load_files",
]
