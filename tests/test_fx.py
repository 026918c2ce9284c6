"""Dated exchange rates (issue 13, item 6): the ECB's reference rates imported into a
workspace's rates file, read back with their date and source, and every bad input named.

The ECB files under tests/data/ecb are the ECB's own (recorded; tests/data/ecb/SOURCES.md):
USD 1.1684, GBP 0.87058 per euro on 2026-04-13, USD 1.1711 on 2026-04-10."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskapp.cli import app
from riskapp.engine import prepare
from riskapp.io import load_workspace
from riskapp.io.errors import InputError
from riskapp.io.fx import import_ecb, load_rates, read_ecb

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny"
ECB = DATA / "ecb"
DAY = ECB / "eurofxref.csv"
HISTORY = ECB / "eurofxref-hist-2026.csv"
runner = CliRunner()


def _tiny(tmp_path: Path, currency: str = "EUR") -> Path:
    """The tiny workspace without its undated fx_rates (USD 0.5)."""
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    text = (ws / "workspace.yaml").read_text().replace("fx_rates: {USD: 0.5}\n", "")
    (ws / "workspace.yaml").write_text(text.replace("currency: EUR", f"currency: {currency}"))
    return ws


def _problems(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_the_days_rates_imported_and_used(tmp_path: Path) -> None:
    ws = _tiny(tmp_path)
    result = runner.invoke(app, ["fx", "import", str(DAY), str(ws)])
    assert result.exit_code == 0, result.output
    assert "29 rate(s) added, 0 changed, 29 currencies, 2026-04-13" in result.output
    loaded = load_workspace(ws)
    s = loaded.settings
    # units of EUR for one USD: 1 / 1.1684, as the file holds it (10 significant digits)
    assert s.fx_rates["USD"] == pytest.approx(1 / 1.1684, rel=1e-9)
    assert s.fx_rates["GBP"] == pytest.approx(1 / 0.87058, rel=1e-9)
    assert s.fx_date == date(2026, 4, 13)
    assert s.fx_provenance() == "ECB euro foreign exchange reference rates, 2026-04-13"
    # the Berlin office's USD 1,000 are worth 1,000 / 1.1684 EUR in every figure
    exposed = prepare(loaded).exposed_value
    row = loaded.portfolio.series("id").tolist().index("O1")
    assert exposed[row] == pytest.approx(1000 / 1.1684, rel=1e-9)
    shown = runner.invoke(app, ["fx", "show", str(ws)])
    assert shown.exit_code == 0, shown.output
    assert "ECB euro foreign exchange reference rates, 2026-04-13" in shown.output
    assert "USD" in shown.output and "0.855871" in shown.output


def test_importing_again_changes_nothing(tmp_path: Path) -> None:
    ws = _tiny(tmp_path)
    import_ecb(ws, DAY)
    first = (ws / "fx.csv").read_bytes()
    again = import_ecb(ws, DAY)
    assert (again.added, again.changed) == (0, 0)
    assert (ws / "fx.csv").read_bytes() == first


def test_history_kept_and_the_rate_on_or_before_fx_date(tmp_path: Path) -> None:
    ws = _tiny(tmp_path)
    done = import_ecb(ws, HISTORY, since=date(2026, 4, 1), currencies={"USD", "GBP"})
    assert (done.first, done.last) == (date(2026, 4, 1), date(2026, 4, 13))
    rates = load_rates(ws / "fx.csv", "fx.csv")
    assert {r.currency for r in rates} == {"USD", "GBP"}
    assert len({r.day for r in rates}) == done.added // 2  # every working day, both currencies
    # a Sunday takes the Friday before: 2026-04-12 -> 2026-04-10 (USD 1.1711 per euro)
    text = (ws / "workspace.yaml").read_text() + "fx_date: 2026-04-12\n"
    (ws / "workspace.yaml").write_text(text)
    s = load_workspace(ws).settings
    assert s.fx_rates["USD"] == pytest.approx(1 / 1.1711, rel=1e-9)
    assert s.fx_rate_dates["USD"] == date(2026, 4, 10)
    assert s.fx_date == date(2026, 4, 12)
    assert "older: GBP 2026-04-10, USD 2026-04-10" in s.fx_provenance()
    # a later import adds the day's rates and keeps the history
    import_ecb(ws, DAY, currencies={"USD"})
    assert len(load_rates(ws / "fx.csv", "fx.csv")) == len(rates)  # 2026-04-13 was there


def test_rates_in_another_workspace_currency(tmp_path: Path) -> None:
    ws = _tiny(tmp_path, currency="USD")
    (ws / "assets.csv").write_text(
        (ws / "assets.csv").read_text().replace(",1000,0,USD,", ",1000,0,GBP,")
    )
    import_ecb(ws, DAY, currencies={"EUR", "GBP"})
    s = load_workspace(ws).settings
    assert s.fx_rates["EUR"] == pytest.approx(1.1684)  # USD per euro
    assert s.fx_rates["GBP"] == pytest.approx(1.1684 / 0.87058, rel=1e-9)
    assert "USD" not in s.fx_rates


def _unchanged_on_failure(ws: Path, bad: Path) -> list[str]:
    import_ecb(ws, DAY, currencies={"USD"})
    before = (ws / "fx.csv").read_bytes()
    with pytest.raises(InputError) as exc:
        import_ecb(ws, bad)
    assert (ws / "fx.csv").read_bytes() == before
    return _problems(exc)


def test_bad_ecb_files_are_named_and_nothing_changes(tmp_path: Path) -> None:
    ws = _tiny(tmp_path)
    lines = HISTORY.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([lines[0], lines[1].replace(",1.1684,", ",1,1684x,"), *lines[2:]]))
    found = _unchanged_on_failure(ws, bad)
    assert any("bad.csv, row 2 [JPY]" in p and "'1684x'" in p for p in found), found
    bad.write_text("\n".join([lines[0], "13/04/2026" + lines[1][10:]]))
    found = _unchanged_on_failure(ws, bad)
    assert any("row 2 [Date]" in p and "'13/04/2026'" in p for p in found), found
    bad.write_text("When,USD\n2026-04-13,1.1\n")  # a changed layout
    found = _unchanged_on_failure(ws, bad)
    assert any("row 1 [When]" in p and "first column `Date`" in p for p in found), found
    bad.write_text(lines[0] + "\n")  # truncated after the header
    assert any("no exchange rates" in p for p in _unchanged_on_failure(ws, bad))


def test_zips_read_within_bounds(tmp_path: Path) -> None:
    ws = _tiny(tmp_path)
    good = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(HISTORY, "eurofxref-hist.csv")
    assert {d for d, _, _ in read_ecb(good, "eurofxref-hist.zip")} >= {date(2026, 4, 13)}
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.write(HISTORY, "a.csv")
        z.write(DAY, "b.csv")
    assert any("one CSV file" in p for p in _unchanged_on_failure(ws, two))
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("eurofxref-hist.csv", "Date,USD\n" + "2026-04-13,1.1\n" * 400_000)
    assert any("too large" in p for p in _unchanged_on_failure(ws, bomb))
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really")
    assert any("not a readable zip" in p for p in _unchanged_on_failure(ws, junk))


def test_bad_rates_files_are_refused_with_row_and_field(tmp_path: Path) -> None:
    ws = _tiny(tmp_path)
    (ws / "fx.csv").write_text(
        "date,base,currency,rate,source\n"
        "2026-04-13,EUR,USD,0.85,ECB\n"
        "2026-04-13,EUR,USD,0.86,ECB\n"
        "2026-04-13,EUR,gbp,-1,ECB\n"
        "yesterday,EUR,SEK,0.09,ECB\n"
    )
    with pytest.raises(InputError) as exc:
        load_workspace(ws)
    found = _problems(exc)
    assert any("fx.csv, row 3 [currency]" in p and "the first on row 2" in p for p in found)
    assert any("fx.csv, row 4 [currency]" in p and "ISO 4217" in p for p in found)
    assert any("fx.csv, row 4 [rate]" in p and "'-1'" in p for p in found)
    assert any("fx.csv, row 5 [date]" in p and "'yesterday'" in p for p in found)
    (ws / "fx.csv").write_text("date,base,currency,rate,source\n2026-04-13,USD,GBP,1.3,x\n")
    with pytest.raises(InputError) as exc:
        load_workspace(ws)
    assert any("quoted in USD, but the workspace currency is EUR" in p for p in _problems(exc))
    (ws / "fx.csv").write_text("date,base,currency,rate,note\n")
    with pytest.raises(InputError) as exc:
        load_workspace(ws)
    found = _problems(exc)
    assert any("[source]: required column is missing" in p for p in found)
    assert any("[note]: unknown column" in p for p in found)


def test_one_source_of_rates(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)  # with fx_rates: {USD: 0.5}
    (ws / "fx.csv").write_text("date,base,currency,rate,source\n2026-04-13,EUR,USD,0.85,x\n")
    with pytest.raises(InputError) as exc:
        load_workspace(ws)
    assert any("workspace.yaml [fx_rates]" in p and "keep one" in p for p in _problems(exc))
    (ws / "fx.csv").unlink()
    result = runner.invoke(app, ["fx", "import", str(DAY), str(ws)])
    assert result.exit_code == 1 and "remove fx_rates" in result.output
    assert not (ws / "fx.csv").exists()


def test_the_rates_file_is_an_input_of_the_revision(tmp_path: Path) -> None:
    from riskapp.assessment.sources import input_files

    ws = _tiny(tmp_path)
    import_ecb(ws, DAY, currencies={"USD"})
    _, files = input_files(ws)
    assert ws / "fx.csv" in files


def test_the_bundled_demo_is_not_written() -> None:
    result = runner.invoke(app, ["fx", "import", str(DAY), "demo"])
    assert result.exit_code == 2 and "read-only" in result.output


def test_the_demo_rates_are_dated() -> None:
    from riskapp.resources import DEMO

    s = load_workspace(DEMO).settings
    assert s.fx_date == date(2026, 4, 13) and s.fx_source.startswith("ECB")
    score = runner.invoke(app, ["score", str(DEMO)])
    assert score.exit_code == 0
    assert "Exchange rates: ECB euro foreign exchange reference rates, 2026-04-13" in score.output
