"""Tests never touch the user's home or data.

At session start (`redirect`, called from tests/conftest.py's pytest_configure) HOME, the XDG
folders and riskapp's data settings point at one temporary folder for the whole session: every
process a test starts (the CLI, `riskapp serve`, Streamlit, Chromium through Playwright or
kaleido, pip) inherits them. A snapshot of the real home (paths, sizes and modification times;
huge tool caches skipped) is taken first; at session end (`check`) anything created, modified or
removed under the real home fails the suite, with the paths listed.

On a machine where other programs write to the home while the tests run, name their folders
(relative to the home, separated by ':') in RISKAPP_HOME_GUARD_IGNORE.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Big trees of other tools: walking them would take long, and nothing of riskapp's lives there.
# ~/.riskapp, ~/.config, ~/.cache (chromium, dconf, fontconfig) and ~/.streamlit are all walked.
SKIP = (
    ".cache/pip",
    ".cache/uv",
    ".cache/ms-playwright",
    ".cache/huggingface",
    ".cache/pre-commit",
    ".cargo",
    ".claude",
    ".gradle",
    ".m2",
    ".npm",
    ".nvm",
    ".pyenv",
    ".rustup",
    ".vscode-server",
    "go",
    ".local/lib",
    ".local/share/virtualenvs",
)
MAX_ENTRIES = 200_000  # a bound on the walk; past it the rest of the home is not watched
XDG = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")

Snapshot = dict[str, tuple[int, int, bool]]  # relative path -> (mtime_ns, size, is_dir)


def skipped() -> set[str]:
    extra = os.environ.get("RISKAPP_HOME_GUARD_IGNORE", "")
    return {*SKIP, *(p.strip("/") for p in extra.split(":") if p.strip("/"))}


def snapshot(home: Path, skip: set[str] | None = None, limit: int = MAX_ENTRIES) -> Snapshot:
    """Every file and folder under `home` (symlinks not followed), less the `skip` subtrees."""
    skip = skipped() if skip is None else skip
    found: Snapshot = {}
    stack = [""]
    while stack and len(found) < limit:
        rel = stack.pop()
        try:
            entries = list(os.scandir(home / rel if rel else home))
        except OSError:
            continue  # gone, or not readable: nothing the tests could have written either
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            if path in skip:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            is_dir = stat.S_ISDIR(st.st_mode)
            found[path] = (st.st_mtime_ns, st.st_size, is_dir)
            if is_dir:
                stack.append(path)
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """Human-readable lines for what was created, modified or removed (with the time of the
    change, to tell the tests' writes from another program's)."""
    lines = []
    for path in sorted(after.keys() - before.keys()):
        lines.append(f"created  ~/{path}{_when(after[path])}")
    for path in sorted(before.keys() & after.keys()):
        if before[path] != after[path]:
            lines.append(f"modified ~/{path}{_when(after[path])}")
    for path in sorted(before.keys() - after.keys()):
        lines.append(f"removed  ~/{path}")
    return lines


def _when(entry: tuple[int, int, bool]) -> str:
    stamp = datetime.fromtimestamp(entry[0] / 1e9, tz=UTC).strftime("%H:%M:%S UTC")
    return f"  (at {stamp})"


@dataclass
class Guard:
    """The real home, its snapshot and the temporary home the session uses instead."""

    real_home: Path
    temp_home: Path
    before: Snapshot = field(default_factory=dict)
    saved_env: dict[str, str | None] = field(default_factory=dict)

    def check(self) -> list[str]:
        return changes(self.before, snapshot(self.real_home))


# variables the guard sets for the session; an empty RISKAPP_DATABASE_URL means "none" (a .env
# file or a developer's shell must not point the tests at a real team database)
def _session_env(temp: Path) -> dict[str, str]:
    env = {
        "HOME": str(temp),
        "XDG_CONFIG_HOME": str(temp / ".config"),
        "XDG_CACHE_HOME": str(temp / ".cache"),
        "XDG_DATA_HOME": str(temp / ".local" / "share"),
        "XDG_STATE_HOME": str(temp / ".local" / "state"),
        "XDG_RUNTIME_DIR": str(temp / "run"),
        "RISKAPP_DATA_DIR": str(temp / ".riskapp"),
        "RISKAPP_DATABASE_URL": "",
    }
    return env


def redirect() -> Guard:
    """Snapshot the real home, then point HOME, XDG_* and riskapp's data settings elsewhere."""
    real = Path(os.path.expanduser("~")).resolve()
    temp = Path(tempfile.mkdtemp(prefix="riskapp-test-home-")).resolve()
    (temp / "run").mkdir(mode=0o700)
    guard = Guard(real_home=real, temp_home=temp, before=snapshot(real))
    for name, value in _session_env(temp).items():
        guard.saved_env[name] = os.environ.get(name)
        os.environ[name] = value
    return guard


def restore(guard: Guard) -> None:
    """Put the environment back and remove the temporary home."""
    for name, value in guard.saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    shutil.rmtree(guard.temp_home, ignore_errors=True)


__all__ = ["XDG", "Guard", "changes", "redirect", "restore", "snapshot"]
