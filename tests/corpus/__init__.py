"""The hostile-input corpus (see index.yaml): the cases, and the recipes that make the files
that are better made than stored (binary workbooks, zip bombs, sparse giants)."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.conftest import TINY

CORPUS = Path(__file__).resolve().parent
FILES = CORPUS / "files"
ROOT = CORPUS.parents[1]

# Every class of hostile input the corpus must hold at least one case of (issue 14's list and
# the classes the project's own bad-input tests had grown).
CLASSES = {
    "control-characters",  # NUL, escapes, direction overrides; !!binary smuggling
    "encoding",  # not UTF-8, UTF-16, binary garbage
    "formula-injection",  # formulas in cells and headers, stale cached values, exports
    "numbers",  # overflow, infinity, negatives, thousands separators
    "table-structure",  # quotes, surplus cells, foreign headers, empty, duplicate ids, huge cells
    "references",  # dangling ids, cycles, shares, self-escalation
    "yaml-execution",  # python tags
    "yaml-expansion",  # alias bombs
    "yaml-depth",  # nesting
    "messages",  # problems reported at the right line and field
    "paths",  # devices, system files, outside the workspace, symlinks
    "size-and-compression",  # zip bombs, giant files
    "logo",  # SVG fetching URLs and files, entities, scripts
    "backup",  # corrupted, partial and hostile backups
    "audit",  # a rewritten audit trail
    "logins",  # password spraying
    "access",  # roles
    "concurrency",  # concurrent writers
}
SURFACES = {"validate", "import", "upload"}


@dataclass(frozen=True)
class Case:
    id: str
    cls: str
    target: str = ""
    file: str | None = None
    make: str | None = None
    surfaces: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()
    expect_alone: tuple[str, ...] | None = None  # validating the file on its own, if different
    covered_by: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def place(self, workspace: Path) -> Path:
        """Put the hostile file where it goes in `workspace`; returns its path there."""
        target = workspace / self.target
        if target.suffix == ".xlsx" and (workspace / "assets.csv").exists():
            (workspace / "assets.csv").unlink()  # the register is the workbook now
            manifest = workspace / "workspace.yaml"
            manifest.write_text(
                manifest.read_text(encoding="utf-8") + "paths: {assets: assets.xlsx}\n",
                encoding="utf-8",
            )
        if target.exists() or target.is_symlink():
            target.unlink()
        if self.file is not None:
            shutil.copyfile(FILES / self.file, target)
        else:
            assert self.make is not None, self.id
            MAKERS[self.make](target)
        return target


def load_cases() -> list[Case]:
    data = yaml.safe_load((CORPUS / "index.yaml").read_text(encoding="utf-8"))
    return [
        Case(
            id=c["id"],
            cls=c["class"],
            target=c.get("as", ""),
            file=c.get("file"),
            make=c.get("make"),
            surfaces=tuple(c.get("surfaces", ())),
            expect=tuple(c.get("expect", ())),
            expect_alone=tuple(c["expect_alone"]) if "expect_alone" in c else None,
            covered_by=c.get("covered_by"),
        )
        for c in data["cases"]
    ]


def workspace_copy(folder: Path) -> Path:
    ws = folder / "ws"
    shutil.copytree(TINY, ws)
    return ws


# -- recipes -------------------------------------------------------------------------------------


def _register_rows() -> list[list[object]]:
    import csv

    with (TINY / "assets.csv").open(encoding="utf-8", newline="") as fh:
        rows: list[list[object]] = [list(r) for r in csv.reader(fh)]
    for row in rows[1:]:
        for i in (4, 5, 6, 7, 9):  # numbers as numbers, as a spreadsheet holds them
            if row[i] != "":
                row[i] = float(str(row[i]))
    return rows


def _xlsx_formula(target: Path) -> None:
    """A workbook whose replacement value on row 3 is `=1E9*2` with a stale cached 5."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(target))
    sheet = book.add_worksheet()
    for r, row in enumerate(_register_rows()):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, value)
    sheet.write_formula(2, 6, "=1E9*2", None, 5)
    book.close()


def _xlsx_zip_bomb(target: Path) -> None:
    """A valid workbook of under 1 MB whose sheet inflates to 300 MB (blanks in a comment)."""
    import xlsxwriter

    plain = target.with_name("plain.xlsx")
    book = xlsxwriter.Workbook(str(plain))
    sheet = book.add_worksheet()
    for r, row in enumerate(_register_rows()):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, value)
    book.close()
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("sheet1.xml"):
                data = data.replace(
                    b"</sheetData>", b"<!--" + b" " * 300_000_000 + b"--></sheetData>"
                )
            zo.writestr(info.filename, data)
    plain.unlink()


def _oversized_cell(target: Path) -> None:
    """A register whose row 4 holds a 200,000-character name (a lost closing quote does this)."""
    text = (TINY / "assets.csv").read_text(encoding="utf-8")
    target.write_text(text.replace("O1,Office", 'O1,"' + "x" * 200_000 + '"'), encoding="utf-8")


def _giant_sparse_csv(target: Path) -> None:
    """A register that claims 600 MB (a sparse file: no disk is used)."""
    with target.open("wb") as fh:
        fh.write((TINY / "assets.csv").read_bytes())
        fh.truncate(600_000_000)


def _symlink_to_dev_zero(target: Path) -> None:
    os.symlink("/dev/zero", target)


MAKERS: dict[str, Callable[[Path], None]] = {
    "xlsx-formula": _xlsx_formula,
    "xlsx-zip-bomb": _xlsx_zip_bomb,
    "oversized-cell": _oversized_cell,
    "giant-sparse-csv": _giant_sparse_csv,
    "symlink-to-dev-zero": _symlink_to_dev_zero,
}
