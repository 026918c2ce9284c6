"""A deliberately messy client workbook, generated from a seed (issue 13, item 9), and what a
clean reading of it must give.

The workbook is what a client sends, not what riskapp writes: German and French column headers,
countries as names in three languages, alpha-2 and alpha-3 codes, a country several countries
answer to ("Korea"), rows with coordinates and no country, rows with only a city, values in
thousands of euros ("TEUR"), millions of dollars ("USD m") and pounds ("GBP") named in the
currency column, asset types the new workspace has no curves for (some the curve library knows
under another name, one it does not), and a few rows that are wrong whatever the mapping.

`write_workbook` writes it (.xlsx or .csv) and returns the `Expected` reading: every good row's
ISO 3166-1 alpha-3 country, replacement value in euros at the ECB's rates of 2026-04-13
(tests/data/ecb/eurofxref.csv) and whether its location is approximate (a city's centre); every
bad row with the field it is wrong in.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

USD_PER_EUR = 1.1684  # tests/data/ecb/eurofxref.csv, 13 April 2026
GBP_PER_EUR = 0.87058

HEADER = [
    "Anlagen-ID",
    "Bezeichnung",
    "Kategorie",
    "Pays",
    "Ville",
    "Breitengrad",
    "Längengrad",
    "Valeur de remplacement",
    "Umsatz",
    "Währung",
    "Bemerkung",
]

# (how the client writes the country, its ISO code, the currency cell of its rows)
COUNTRIES = [
    ("Deutschland", "DEU", "TEUR"),
    ("Allemagne", "DEU", "TEUR"),
    ("Germany", "DEU", "TEUR"),
    ("DE", "DEU", "TEUR"),
    ("FRA", "FRA", "TEUR"),
    ("Frankreich", "FRA", "TEUR"),
    ("France", "FRA", "TEUR"),
    ("Polska", "POL", "TEUR"),
    ("PL", "POL", "TEUR"),
    ("Royaume-Uni", "GBR", "GBP"),
    ("GB", "GBR", "GBP"),
    ("Vereinigtes Königreich", "GBR", "GBP"),
    ("USA", "USA", "USD m"),
    ("US", "USA", "USD m"),
    ("Vereinigte Staaten", "USA", "USD m"),
]
AMBIGUOUS = ("Korea", "KOR")  # Korea: KOR or PRK, for a person to confirm
# points well inside a country (Natural Earth 1:110m outlines), for rows with no country
POINTS = [
    ((51.0, 10.0), "DEU", "TEUR"),
    ((47.0, 2.5), "FRA", "TEUR"),
    ((52.0, 19.5), "POL", "TEUR"),
]
CITIES = [("Hamburg", "DEU"), ("München", "DEU"), ("Lyon", "FRA"), ("Toulouse", "FRA")]
# the client's type names; the type each means; how a clean reading finds it
TYPES = [
    ("Werk", "plant"),  # a synonym
    ("Lager", "warehouse"),  # a synonym
    ("Büro", "office"),  # a synonym
    ("Rechenzentrum", "data_centre"),  # a synonym
    ("Umspannwerk", "substation"),  # the curve library's, not the workspace's
    ("power station", "power_plant"),  # the curve library's, not the workspace's
    ("Kantine", "office"),  # known to nobody: mapped by hand
]
HAND_TYPES = {"Kantine": "office"}  # what the person decides for types nobody knows
# currency cell -> (ISO code, factor to units of that currency, euros per unit)
CURRENCIES = {
    "TEUR": ("EUR", 1e3, 1.0),
    "USD m": ("USD", 1e6, 1 / USD_PER_EUR),
    "GBP": ("GBP", 1.0, 1 / GBP_PER_EUR),
}
# bad rows: (the field a check must name, what is wrong); one of each every BAD_EVERY rows
BAD = [
    ("replacement_value", "not a number"),
    ("replacement_value", "negative"),
    ("id", "empty"),
    ("country", "not a country"),
    ("lat", "out of range"),
]
BAD_EVERY = 40


@dataclass
class Expected:
    """What the workbook means: good rows by id (ISO3, currency, replacement value in EUR,
    approximate), bad rows by file row (the field at fault), the ambiguous country cells."""

    rows: int = 0
    good: dict[str, tuple[str, str, float, bool]] = field(default_factory=dict)
    bad: dict[int, str] = field(default_factory=dict)
    ambiguous: dict[str, str] = field(default_factory=dict)  # cell -> the code meant
    hand_types: dict[str, str] = field(default_factory=lambda: dict(HAND_TYPES))


def _value(rng: random.Random, cell: str) -> tuple[str, float]:
    """A value as the client writes it in the unit of its currency cell, and in euros."""
    code, factor, eur = CURRENCIES[cell]
    if code == "USD":
        written = round(rng.uniform(0.5, 80.0), 2)  # millions
        return f"{written:.2f}", written * factor * eur
    if code == "GBP":
        written = float(rng.randint(200_000, 40_000_000))
        return f"{written:.0f}", written * factor * eur
    written = float(rng.randint(100, 60_000))  # thousands
    return f"{written:.0f}", written * factor * eur


def messy_rows(rows: int, seed: int = 13) -> tuple[list[list[str]], Expected]:
    """The workbook's cells (header first) and what they mean."""
    rng = random.Random(seed)
    expected = Expected(rows=rows)
    cells: list[list[str]] = [list(HEADER)]
    for i in range(rows):
        line = i + 2  # the file's row number (the header is row 1)
        asset_id = f"{'DE' if i % 3 else 'FR'}-{i:06d}"
        client_type, _ = TYPES[i % len(TYPES)]
        country, code, currency = rng.choice(COUNTRIES)
        city = lat = lon = ""
        approximate = False
        kind = i % 25
        if kind == 7:  # coordinates only
            (plat, plon), code, currency = rng.choice(POINTS)
            country = ""
            lat, lon = (
                f"{plat + rng.uniform(-0.5, 0.5):.4f}",
                f"{plon + rng.uniform(-0.5, 0.5):.4f}",
            )
        elif kind == 11:  # a city only
            city, code = rng.choice(CITIES)
            country, currency, approximate = "", "TEUR", True
        elif kind == 17:  # a supplier in Korea, paid in dollars
            (country, code), currency = AMBIGUOUS, "USD m"
            expected.ambiguous[country] = code
        else:
            lat, lon = "", ""
        value, eur = _value(rng, currency)
        revenue = str(rng.randint(0, 5_000)) if currency == "TEUR" else "0"
        row = [
            asset_id,
            f"Standort {i}",
            client_type,
            country,
            city,
            lat,
            lon,
            value,
            revenue,
            currency,
            rng.choice(["", "", "neu", "siehe Vertrag", "à vérifier"]),
        ]
        if i % BAD_EVERY == BAD_EVERY - 1:
            bad_field, _ = BAD[(i // BAD_EVERY) % len(BAD)]
            if bad_field == "replacement_value":
                row[7] = "n/a" if (i // BAD_EVERY) % len(BAD) == 0 else "-" + value
            elif bad_field == "id":
                row[0] = ""
            elif bad_field == "country":
                row[3], row[4] = "Atlantis", ""
            else:
                row[3], row[4], row[5], row[6] = "", "", "95.5", "10.0"
            expected.bad[line] = bad_field
        else:
            expected.good[asset_id] = (code, CURRENCIES[currency][0], eur, approximate)
        cells.append(row)
    return cells, expected


def write_workbook(path: Path, rows: int, seed: int = 13) -> Expected:
    """Write the workbook (.xlsx or .csv, by the suffix) and return what it means."""
    cells, expected = messy_rows(rows, seed)
    if path.suffix.lower() == ".csv":
        import csv

        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(cells)
        return expected
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Anlagen")
    for n, row in enumerate(cells):
        if n == 0:
            sheet.append(row)
            continue
        # numbers as numbers where the client would type them so; text where it is text
        out: list[object] = []
        for col, cell in enumerate(row):
            if col in (5, 6, 7, 8) and cell:
                try:
                    out.append(float(cell))
                    continue
                except ValueError:
                    pass
            out.append(cell)
        sheet.append(out)
    book.save(path)
    return expected


# --- the onboarding path, as a person runs it ---------------------------------------------------

ECB_DAY = Path(__file__).parent / "data" / "ecb" / "eurofxref.csv"
MORE = "more problems not shown"  # riskapp's reading of a register stops listing after 200
MAX_ROUNDS = 20


@dataclass(frozen=True)
class Stage:
    """One stage of the path: a command riskapp runs, or a step a person takes by hand (a
    decision the tool left to them), with what it was and how long it took."""

    name: str
    manual: bool
    detail: str
    seconds: float


@dataclass
class Onboarding:
    workspace: Path
    stages: list[Stage] = field(default_factory=list)
    validate_report: dict[str, object] = field(default_factory=dict)  # the first full check
    set_aside: list[int] = field(default_factory=list)  # the workbook's rows set aside
    aside_fields: dict[int, set[str]] = field(default_factory=dict)  # by `--set-aside`

    @property
    def manual(self) -> list[Stage]:
        return [s for s in self.stages if s.manual]

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages)


class Stuck(AssertionError):
    """The path needs a decision the person was not given, or a command failed."""


def cli_in_process(args: list[str]) -> tuple[int, str]:
    from typer.testing import CliRunner

    from riskapp.cli import app

    result = CliRunner().invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def cli_process(args: list[str]) -> tuple[int, str]:
    """A command in a process of its own, as a person runs it (`python -m riskapp.cli`)."""
    import os
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "riskapp.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    return done.returncode, done.stdout if done.returncode in (0, 1) else done.stdout + done.stderr


def onboard(
    client: Path,
    folder: Path,
    knows: Expected,
    template: str = "manufacturing",
    cli: Callable[[list[str]], tuple[int, str]] | None = None,
    set_aside_rows: bool = True,
) -> Onboarding:
    """Take a client's workbook to a validated, scored workspace in `folder` through the
    command line, as a person would: the commands riskapp needs, and by hand only what its
    output asks a person to decide (each such decision a manual stage). `knows` is what the
    person knows about the client: the type meant by a name nobody knows, the country meant by
    an ambiguous cell. `set_aside_rows`: the rows the register's checks refuse are set aside
    by `mapping apply --set-aside`; without, the person removes the rows `validate` names.
    `cli`: how a command runs (default: in this process, typer's CliRunner)."""
    import csv
    import re
    import time

    cli = cli or cli_in_process
    ws = folder / "workspace"
    mapping = ws / "mapping.yaml"
    done = Onboarding(ws)

    def run(name: str, args: list[str], ok: tuple[int, ...] = (0,)) -> str:
        start = time.perf_counter()
        code, output = cli(args)
        done.stages.append(Stage(name, False, " ".join(args[:2]), time.perf_counter() - start))
        if code not in ok:
            raise Stuck(f"{name}: exit {code}\n{output}")
        return output

    def by_hand(name: str, detail: str, act: Callable[[], None]) -> None:
        start = time.perf_counter()
        act()
        done.stages.append(Stage(name, True, detail, time.perf_counter() - start))

    run("init", ["init", str(ws), "--template", template])
    run("fx import", ["fx", "import", str(ECB_DAY), str(ws)])
    said = run(
        "mapping suggest",
        ["mapping", "suggest", str(client), "--workspace", str(ws), "-o", str(mapping)],
    )
    said = " ".join(said.split())  # as one line, whatever the terminal's width
    added = re.search(
        r"add their curves first: riskapp curves add ([a-z0-9_ ]+?) --workspace", said
    )
    for library_type in added[1].split() if added else []:
        by_hand(
            f"add the curve library's {library_type}",
            f"riskapp curves add {library_type}",
            lambda t=library_type: _expect_ok(cli(["curves", "add", t, "--workspace", str(ws)])),
        )
    text = mapping.read_text(encoding="utf-8")
    for value in re.findall(r'^  # "([^"]+)":     # no suggestion', text, re.M):
        if value not in knows.hand_types:
            raise Stuck(f"the type {value!r} needs a decision the person was not given")
        meant = knows.hand_types[value]
        line = re.compile(rf'^  # "{re.escape(value)}":.*$', re.M)
        by_hand(f"map the type {value!r}", f"{value} -> {meant} in mapping.yaml", lambda: None)
        text = line.sub(f'  "{value}": {meant}', text)
    for value in dict.fromkeys(re.findall(r'^  # "([^"]+)": [A-Z]{3}    # ', text, re.M)):
        if value not in knows.ambiguous:
            raise Stuck(f"the country {value!r} needs a decision the person was not given")
        meant = knows.ambiguous[value]
        by_hand(
            f"confirm the country {value!r}", f"{value} -> {meant} in mapping.yaml", lambda: None
        )
        text = text.replace(f'  # "{value}": {meant}    #', f'  "{value}": {meant}    #')
    mapping.write_text(text, encoding="utf-8")
    register = ws / "assets.csv"
    apply = ["mapping", "apply", str(client), "-m", str(mapping), "-o", str(register)]
    aside = folder / "set-aside.csv"
    run("mapping apply", [*apply, "--set-aside", str(aside)] if set_aside_rows else apply)
    if set_aside_rows:
        with aside.open(encoding="utf-8", newline="") as fh:
            refused = list(csv.DictReader(fh))
        done.set_aside = [int(r["row"]) for r in refused]
        done.aside_fields = {int(r["row"]): set(r["fields"].split("; ")) for r in refused}
        if refused:
            by_hand(
                "send the set-aside rows back to the client",
                f"{len(refused)} rows, each with its fields and problems",
                lambda: None,
            )
    import json

    origin: list[int] | None = None  # the register's rows -> the workbook's, once rows go
    rounds = 0
    while True:
        args = ["validate", str(ws), "--format", "json", "--all"]
        said = run("validate again" if rounds else "validate", args, (0, 1))
        report = json.loads(said)
        if not rounds:
            done.validate_report = report
        if report["ok"]:
            break
        rows: set[int] = set()
        for rule in report["rules"]:
            for problem in rule["problems"]:
                mine = str(problem["file"]).endswith("assets.csv")
                if mine and problem["row"] is None and problem["message"] == MORE:
                    continue  # the reading stopped counting: another round will name them
                if problem["row"] is None or not mine:
                    raise Stuck(f"a problem that is not a register row's: {problem}")
                rows.add(int(problem["row"]))
        rounds += 1
        if not rows or rounds > MAX_ROUNDS:
            raise Stuck(f"round {rounds}: still not valid: {report['errors']} problems")

        def set_aside(rows: set[int] = rows) -> None:
            nonlocal origin
            with register.open(encoding="utf-8", newline="") as fh:
                lines = list(csv.reader(fh))
            if origin is None:
                origin = list(range(1, len(lines) + 1))
            done.set_aside += [origin[n - 1] for n in sorted(rows)]
            keep = [n for n in range(1, len(lines) + 1) if n == 1 or n not in rows]
            with register.open("w", encoding="utf-8", newline="") as fh:
                csv.writer(fh).writerows(lines[n - 1] for n in keep)
            origin = [origin[n - 1] for n in keep]

        by_hand(
            "set aside the rows validate names" + (f" (round {rounds})" if rounds > 1 else ""),
            f"{len(rows)} rows back to the client",
            set_aside,
        )
    done.set_aside.sort()
    run("score", ["score", str(ws), "--basis", "absolute", "--out", str(folder / "losses.csv")])
    return done


def _expect_ok(result: tuple[int, str]) -> None:
    if result[0] != 0:
        raise Stuck(result[1])
