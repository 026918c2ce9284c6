"""The dependency-share file of a workspace (`dependencies.csv` next to workspace.yaml):
asset_id, depends_on, share, redundancy_group; read with every problem named by its row."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from riskapp.domain.assets import DependencyLink, Portfolio
    from riskapp.io.errors import Problem

DEPENDENCIES = "dependencies.csv"
DEPENDENCY_COLUMNS = ["asset_id", "depends_on", "share", "redundancy_group"]


def load_dependencies(path: Path, portfolio: Portfolio) -> list[DependencyLink]:
    """Read a dependency-share file (CSV or XLSX: asset_id, depends_on, share,
    redundancy_group); raise InputError listing every problem with its row."""
    from pydantic import ValidationError

    from riskapp.domain.assets import DependencyLink, DependencyTable
    from riskapp.io.errors import InputError, Problem, pydantic_message
    from riskapp.io.tables import read_rows
    from riskapp.io.workspace import display

    name = display(path)
    plain = plain_links(path, name, portfolio)
    if plain is not None:
        return plain
    header, rows = read_rows(path, name)
    problems = [
        Problem(name, 1, col, "required column is missing", "row")
        for col in DEPENDENCY_COLUMNS[:3]
        if col not in header
    ]
    problems += [
        Problem(name, 1, col, f"unknown column; expected {', '.join(DEPENDENCY_COLUMNS)}", "row")
        for col in header
        if col and col not in DEPENDENCY_COLUMNS
    ]
    if problems:
        raise InputError(problems)
    links: list[DependencyLink] = []
    lines: list[int] = []
    for line, cells in rows:
        record: dict[str, Any] = {}
        for col, cell in zip(header, cells, strict=False):
            value = cell.strip() if isinstance(cell, str) else cell
            if col and value not in ("", None):
                record[col] = value
        try:
            links.append(DependencyLink.model_validate(record))
            lines.append(line)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                problems.append(Problem(name, line, field, pydantic_message(err), "row"))
    # the rows that read well are checked between themselves and against the register too,
    # so that one run lists every problem of the file, each on its row
    problems += _between_rows(links, lines, name)
    table = DependencyTable.model_construct(links=links)  # what it checks is checked above
    problems += [
        Problem(name, lines[i], field, message, "row")
        for i, field, message in table.problems(portfolio)
    ]
    if not problems:
        problems += _cycle_problems(links, lines, name, portfolio)
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.field)))
    return links


def _cycle(links: list[DependencyLink], portfolio: Portfolio) -> list[str] | None:
    """A cycle of the register's depends_on and the file's links together, or None. The
    graph is peeled in arrays first (`peels_bare`): only a graph that may hold a cycle is
    walked in Python."""
    from itertools import chain

    import numpy as np

    from riskapp.domain.assets import find_cycle, peels_bare, rows_of

    deps = portfolio.series("depends_on").to_numpy(dtype=object)
    counts = np.fromiter(map(len, deps), dtype=np.int64, count=len(deps))
    has = np.flatnonzero(counts)
    ids = portfolio.series("id")
    source = np.r_[
        np.repeat(has, counts[has]), rows_of(ids, [link.asset_id for link in links])
    ].astype(np.int64)
    listed = deps[has].tolist()
    named = [*chain.from_iterable(listed), *(link.depends_on for link in links)]
    target = rows_of(ids, named)
    # (an id the register does not hold, which other checks refuse: walked in Python)
    if (source >= 0).all() and (target >= 0).all() and peels_bare(source, target, len(deps)):
        return None
    # only the assets that depend on some other: their ids converted, not every asset's
    graph: dict[str, list[str]] = {
        asset_id: list(own) for asset_id, own in zip(ids.take(has).tolist(), listed, strict=True)
    }
    for link in links:
        graph.setdefault(link.asset_id, []).append(link.depends_on)
    return find_cycle(graph)


def _cycle_problems(
    links: list[DependencyLink], lines: list[int], name: str, portfolio: Portfolio
) -> list[Problem]:
    """A dependency cycle the file's links close (with the register's depends_on), on the
    row of the first of its links the file gives."""
    from itertools import pairwise

    from riskapp.io.errors import Problem

    cycle = _cycle(links, portfolio)
    if not cycle:
        return []
    steps = set(pairwise(cycle))
    row = next(
        (line for k, line in zip(links, lines, strict=True) if (k.asset_id, k.depends_on) in steps),
        None,
    )
    return [Problem(name, row, "depends_on", "dependency cycle: " + " -> ".join(cycle), "row")]


def _between_rows(links: list[DependencyLink], lines: list[int], name: str) -> list[Problem]:
    """What DependencyTable refuses, worded on the rows: a link given twice, and a redundancy
    group of one asset stating two shares (only met on a file that is not plain)."""
    from riskapp.io.errors import Problem
    from riskapp.io.tables import repeats

    repeated = repeats([(k.asset_id, k.depends_on) for k in links], lines)
    out = [
        Problem(
            name,
            lines[i],
            "depends_on",
            f"the link of {links[i].asset_id!r} on {links[i].depends_on!r} is already given on "
            f"row {first}; give each link once",
            "row",
        )
        for i, first in repeated
    ]
    again = {i for i, _ in repeated}
    group_share: dict[tuple[str, str], tuple[float, int]] = {}
    for i, (link, line) in enumerate(zip(links, lines, strict=True)):
        if link.redundancy_group is None or i in again:
            continue
        key = (link.asset_id, link.redundancy_group)
        share, row = group_share.setdefault(key, (link.share, line))
        if share != link.share:
            out.append(
                Problem(
                    name,
                    line,
                    "share",
                    f"redundancy group {link.redundancy_group!r} of asset {link.asset_id!r} states "
                    f"share {share:g} on row {row} and {link.share:g} here; the links of a group "
                    "share one share",
                    "row",
                )
            )
    return sorted(out, key=lambda p: p.line or 0)


def plain_links(path: Path, name: str, portfolio: Portfolio) -> list[DependencyLink] | None:
    """The links of a plain CSV or Parquet file whose every row is valid and matches the
    register, checked column by column with Arrow kernels; None when any row is not plainly
    so (or the file is XLSX or odd): the row-by-row reading then finds and words every problem.
    The checks are narrower than the model's, so both readings give the same links."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from riskapp.domain.assets import DependencyLink, rows_of
    from riskapp.io.arrowcheck import ID_ANY, LONGEST, SLUG, whole
    from riskapp.io.columnar import text_table

    # what a plainly valid cell holds: the register's own patterns (narrower than or equal to
    # what DependencyLink accepts), a share from 0 to 1; identifiers' length checked apart
    share_cell = whole(r"0(?:\.[0-9]{1,30})?|1(?:\.0{1,30})?|\.[0-9]{1,30}")

    read = text_table(path, name)
    if read is None:
        return None
    header, table, _ = read
    if sorted(header) not in (sorted(DEPENDENCY_COLUMNS), sorted(DEPENDENCY_COLUMNS[:3])):
        return None
    column = {col: table.column(i) for i, col in enumerate(header)}
    n = table.num_rows
    if n == 0:
        return []

    def passes(values: pa.ChunkedArray, pattern: str) -> bool:
        return bool(pc.all(pc.match_substring_regex(values, pattern)).as_py())

    ok = passes(column["asset_id"], whole(ID_ANY)) and passes(column["depends_on"], whole(ID_ANY))
    ok = ok and passes(column["share"], share_cell)
    group = column.get("redundancy_group")
    ok = ok and (group is None or passes(group, whole(SLUG, optional=True)))
    if not ok:
        return None
    asset = pc.utf8_trim(column["asset_id"], " \t")
    target = pc.utf8_trim(column["depends_on"], " \t")
    longest = max(pc.max(pc.utf8_length(asset)).as_py(), pc.max(pc.utf8_length(target)).as_py())
    if longest > LONGEST["id"]:
        return None
    frame = pd.DataFrame(
        {
            "asset_id": asset.to_numpy(zero_copy_only=False),
            "depends_on": target.to_numpy(zero_copy_only=False),
            "share": pc.cast(pc.utf8_trim(column["share"], " \t"), pa.float64()).to_numpy(),
            "group": (
                pc.utf8_trim(group, " \t").to_numpy(zero_copy_only=False)
                if group is not None
                else np.full(n, "", dtype=object)
            ),
        }
    )
    if frame.duplicated(["asset_id", "depends_on"]).any():
        return None
    grouped = frame[frame["group"] != ""]
    if (
        len(grouped)
        and (
            grouped.groupby(["asset_id", "group"])["share"].agg(["min", "max"]).diff(axis=1)["max"]
            != 0
        ).any()
    ):
        return None
    # both ends of each link must be assets of the register (the register's depends_on is
    # completed from this file: `with_declared_links`)
    # (the file's ids looked up in one hashed pass over the register's: no index of them)
    ids = portfolio.series("id")
    if not (
        (rows_of(ids, frame["asset_id"].tolist()) >= 0).all()
        and (rows_of(ids, frame["depends_on"].tolist()) >= 0).all()
    ):
        return None
    if (frame["asset_id"] == frame["depends_on"]).any():
        return None
    groups = [g or None for g in frame["group"].tolist()]
    links = [
        DependencyLink.model_construct(asset_id=a, depends_on=d, share=s, redundancy_group=g)
        for a, d, s, g in zip(
            frame["asset_id"].tolist(),
            frame["depends_on"].tolist(),
            frame["share"].tolist(),
            groups,
            strict=True,
        )
    ]
    return None if _cycle(links, portfolio) else links  # a cycle: worded on its row


def dependency_file(workspace: Path) -> Path:
    """Where a workspace keeps its dependency shares (next to workspace.yaml)."""
    from riskapp.io.workspace import manifest_path

    return manifest_path(workspace).parent / DEPENDENCIES


def declared_pairs(path: Path) -> pd.DataFrame | None:
    """The (asset_id, depends_on) pairs a dependency-share file declares, blanks trimmed and
    empty cells left out, or None when the file is missing or cannot be read (its problems are
    `load_dependencies`' to word)."""
    import pandas as pd
    import pyarrow.compute as pc

    from riskapp.io.columnar import text_table
    from riskapp.io.errors import InputError
    from riskapp.io.tables import read_rows
    from riskapp.io.workspace import display

    if not path.is_file():
        return None
    try:
        fast = text_table(path, display(path))  # a plain CSV or Parquet file, by Arrow
        if fast is not None:
            header, table, _ = fast
            if "asset_id" not in header or "depends_on" not in header:
                return None
            frame = pd.DataFrame(
                {
                    col: pc.utf8_trim_whitespace(table.column(header.index(col))).to_numpy(
                        zero_copy_only=False
                    )
                    for col in ("asset_id", "depends_on")
                },
                dtype=object,
            )
            return frame[(frame["asset_id"] != "") & (frame["depends_on"] != "")]
        header, rows = read_rows(path, display(path))
    except InputError:
        return None
    if "asset_id" not in header or "depends_on" not in header:
        return None
    a, d = header.index("asset_id"), header.index("depends_on")
    pairs = [
        (str(cells[a]).strip(), str(cells[d]).strip())
        for _, cells in rows
        if len(cells) > max(a, d) and cells[a] is not None and cells[d] is not None
    ]
    frame = pd.DataFrame(pairs, columns=["asset_id", "depends_on"], dtype=object)
    return frame[(frame["asset_id"] != "") & (frame["depends_on"] != "")]


def with_declared_links(frame: pd.DataFrame, pairs: pd.DataFrame | None) -> pd.DataFrame:
    """The register with each asset's `depends_on` completed from the dependency-share file:
    a link declared there need not be listed again in the register (the one place to declare
    a link that carries a share). Only links between assets of the register are added (a link
    naming another id is reported on its row of the file); the register's own order is kept,
    the file's links follow."""

    if pairs is None or not len(pairs) or not len(frame):
        return frame
    import numpy as np

    from riskapp.domain.assets import rows_of, text_codes

    # the file's few pairs are looked up among the register's many ids (one hashed pass in
    # Arrow, no Python string per register row)
    column = frame["id"]
    known = pairs[
        (rows_of(column, pairs["asset_id"].tolist()) >= 0)
        & (rows_of(column, pairs["depends_on"].tolist()) >= 0)
    ]
    known = known[known["asset_id"] != known["depends_on"]]
    if not len(known):
        return frame
    # the links the register lists already, of the assets the file names
    named = np.flatnonzero(text_codes(column, known["asset_id"].unique().tolist()) >= 0)
    listed = {
        (a, d)
        for a, ds in zip(
            column.take(named).tolist(),
            frame["depends_on"].take(named).tolist(),
            strict=True,
        )
        for d in ds
    }
    new = known[
        [(a, d) not in listed for a, d in zip(known["asset_id"], known["depends_on"], strict=True)]
    ].drop_duplicates()
    if not len(new):
        return frame
    added = new.groupby("asset_id", sort=False)["depends_on"].agg(list)
    rows = rows_of(column, added.index.tolist())
    deps = frame["depends_on"].to_numpy(dtype=object).copy()
    for row, extra in zip(rows.tolist(), added.tolist(), strict=True):  # assets with new links
        deps[row] = [*deps[row], *extra]
    return frame.assign(depends_on=deps)
