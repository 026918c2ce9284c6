"""WeasyPrint as the PDF report runs it (riskapp/reporting/weasy.py): SVG text drawn a run at a
time lands where WeasyPrint's own character-by-character drawing puts it (pages compared as
pixels, read back as text), positioned text still takes WeasyPrint's own path, and the frozen
heap is unfrozen after a render and keeps no garbage.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from riskapp.reporting import weasy

weasyprint = pytest.importorskip("weasyprint")

# texts as plotly writes them: anchored start, middle and end, turned by a transform, two
# lines as tspans with dy, a dx/dy offset; one text that places each character itself; and
# one with pairs of letters a font kerns (a run is kerned, single characters are not)
SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="400" height="260" viewBox="0 0 400 260">
<rect x="0" y="0" width="400" height="260" style="fill: rgb(255, 255, 255);"/>
<g style="font-family: 'Source Sans Pro', Helvetica, Arial, sans-serif; fill: rgb(42, 63, 95);">
<text x="10" y="30" style="font-size: 16px;">Start anchored 15m</text>
<text x="200" y="60" text-anchor="middle" style="font-size: 16px;">Middle anchored 7%</text>
<text x="390" y="90" text-anchor="end" style="font-size: 13px;">End anchored 12.5m</text>
<text text-anchor="middle" x="0" y="0" transform="translate(200,140) rotate(-30)"
 style="font-size: 14px;">Turned label</text>
<text text-anchor="middle" x="90" y="170" style="font-size: 13px;"><tspan class="line"
 dy="0em" x="90" y="170">106 d</tspan><tspan class="line" dy="1.3em" x="90"
 y="170">late</tspan></text>
<text x="300" y="170" dx="5" dy="-3" style="font-size: 13px; font-weight: bold;">dx dy</text>
<text x="20 40 60 80" y="220" style="font-size: 13px;">abcd</text>
<text x="10" y="250" style="font-size: 16px;">AVAWAY Tokyo</text>
</g></svg>"""

TEXTS = ["Start anchored 15m", "Middle anchored 7%", "End anchored 12.5m", "Turned label"]


def need(tool: str) -> None:
    if shutil.which(tool):
        return
    reason = f"{tool} not found (apt-get install -y poppler-utils)"
    if os.environ.get("CI"):
        pytest.fail(f"the PDF cannot be checked in CI: {reason}")
    pytest.skip(reason)


def pdf_of(svg: str) -> bytes:
    """`svg` alone on a page of its size, as the report's charts are: an image."""
    import base64

    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    html = (
        "<style>@page { size: 400px 260px; margin: 0 } body { margin: 0 }</style>"
        f'<img src="{uri}" style="display: block; width: 400px">'
    )
    data: bytes = weasyprint.HTML(string=html).write_pdf()
    return data


def pixels(pdf: bytes, folder: Path, name: str) -> Any:
    import numpy as np
    from PIL import Image

    (folder / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", "-singlefile", name + ".pdf", name],
        check=True,
        cwd=folder,
    )
    return np.asarray(Image.open(folder / f"{name}.png").convert("L"), dtype=float) / 255


def ink_box(image: Any) -> tuple[int, int, int, int]:
    import numpy as np

    rows, cols = np.nonzero(image < 0.6)
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


@pytest.fixture
def own_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint's own SVG text drawing for the test (the run drawing is installed again
    afterwards by monkeypatch)."""
    from weasyprint import svg

    runs = svg.text
    original = getattr(runs, "original", runs)
    for tag, draw in list(svg.TAGS.items()):
        if draw is runs:
            monkeypatch.setitem(svg.TAGS, tag, original)
    monkeypatch.setattr(svg, "text", original)


def test_installed_for_the_weasyprint_it_knows() -> None:
    from weasyprint import svg

    installed = weasy.install_svg_text_runs()
    assert installed == (weasy.weasyprint_major() == weasy.PATCHED_MAJOR)
    assert weasy.install_svg_text_runs() == installed  # idempotent
    if installed:
        assert svg.text.original is not svg.text
        assert svg.TAGS["text"] is svg.TAGS["tspan"] is svg.text


def test_runs_land_where_weasyprints_own_characters_land(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    need("pdftoppm")
    if not weasy.install_svg_text_runs():
        pytest.skip(f"WeasyPrint {weasyprint.__version__} keeps its own SVG text drawing")
    runs = pixels(pdf_of(SVG), tmp_path, "runs")
    request.getfixturevalue("own_drawing")
    own = pixels(pdf_of(SVG), tmp_path, "own")

    assert runs.shape == own.shape
    # the same ink, band by band: each text starts, ends and sits where it did (kerning
    # moves a glyph by a fraction of a pixel at 150 dpi; 2 px is less than 0.4 mm)
    bands = [(0, 60), (60, 110), (110, 160), (165, 250), (250, 305), (310, 359)]  # 150 dpi
    for top, bottom in bands:
        a, b = ink_box(runs[top:bottom]), ink_box(own[top:bottom])
        assert all(abs(p - q) <= 1 for p, q in zip(a, b, strict=True)), (top, a, b)
    # kerned: starts at the same place and ends sooner, by the pairs AV, VA, AW, WA, AY, To
    # (here 6 % of the text's length)
    (top, bottom, left, right), (top2, bottom2, left2, right2) = (
        ink_box(runs[365:406]),
        ink_box(own[365:406]),
    )
    assert (top, bottom, left) == (top2, bottom2, left2)
    assert right2 - 0.1 * (right2 - left2) <= right < right2


def test_runs_read_back_as_words(tmp_path: Path) -> None:
    need("pdftotext")
    if not weasy.install_svg_text_runs():
        pytest.skip(f"WeasyPrint {weasyprint.__version__} keeps its own SVG text drawing")
    (tmp_path / "runs.pdf").write_bytes(pdf_of(SVG))
    text = subprocess.run(
        ["pdftotext", "runs.pdf", "-"], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    for words in [*TEXTS[:3], "106 d", "late", "dx dy"]:  # the turned label reads in pieces
        assert words in text, (words, text)


def test_which_texts_are_runs() -> None:
    from xml.etree import ElementTree

    def node(xml: str) -> Any:
        element = ElementTree.fromstring(xml)
        return SimpleNamespace(attrib=dict(element.attrib), text=element.text)

    assert weasy.is_run(node('<text x="10" y="20" dx="1" dy="-2" rotate="5">ab</text>'))
    assert weasy.is_run(node('<tspan dy="1.3em" x="136" y="81.1">late</tspan>'))
    assert not weasy.is_run(node('<text x="10 20" y="5">ab</text>'))
    assert not weasy.is_run(node('<text x="10" dx="1,2">ab</text>'))
    assert not weasy.is_run(node('<text x="10" rotate="0 30">ab</text>'))
    assert not weasy.is_run(node('<text x="10" letter-spacing="2">ab</text>'))
    assert not weasy.is_run(node('<text x="10" textLength="50">ab</text>'))
    assert not weasy.is_run(node('<text x="10"></text>'))


UNFROZEN_PROBE = """
import gc
from riskapp.reporting import weasy
assert gc.get_freeze_count() == 0, "frozen before"
class Cycle:
    other = None
garbage = Cycle()
garbage.other = garbage
del garbage
with weasy.frozen_heap():
    assert gc.get_freeze_count() > 0, "nothing frozen"
    assert not any(isinstance(o, Cycle) for o in gc.get_objects()), "garbage frozen"
assert gc.get_freeze_count() == 0, "left frozen"
print("ok")
"""


def _probe_passes(code: str) -> None:
    """Run a probe in a process of its own (in the test process, other tests may have frozen
    objects, and their threads may free frozen ones while a count is compared)."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_frozen_heap_is_unfrozen_and_freezes_no_garbage() -> None:
    _probe_passes(UNFROZEN_PROBE)  # a heap nothing else froze


FROZEN_PROBE = """
import gc
from riskapp.reporting import weasy
gc.freeze()
frozen = gc.get_freeze_count()
with weasy.frozen_heap():
    assert gc.get_freeze_count() == frozen, "changed inside"
assert gc.get_freeze_count() == frozen, "changed after"
print("ok")
"""


def test_frozen_heap_leaves_a_frozen_process_as_it_is() -> None:
    _probe_passes(FROZEN_PROBE)


IMPORT_PROBE = """
import json, re, subprocess, sys
runs = []
real = subprocess.Popen.__init__
def record(self, args, *a, **k):
    runs.append([str(x) for x in (args if isinstance(args, (list, tuple)) else [args])])
    real(self, args, *a, **k)
subprocess.Popen.__init__ = record
if sys.argv[1] == "riskapp":
    from riskapp.reporting.weasy import import_weasyprint
    import_weasyprint()
else:
    import weasyprint
maps = open("/proc/self/maps").read()
libs = sorted(set(re.findall(r"/(lib(?:gobject|pango|harfbuzz|fontconfig)[^/\\s]*)$", maps, re.M)))
print(json.dumps({"runs": runs, "libs": libs}))
"""


def test_weasyprint_is_imported_with_one_ldconfig_run_and_the_same_libraries() -> None:
    """WeasyPrint's own import runs `ldconfig`, `gcc` and `ld` for every library name it
    tries (about 0.2 s); `import_weasyprint` reads one `ldconfig -p` listing and opens the
    very same library files."""
    import json
    import sys

    if not sys.platform.startswith("linux") or not shutil.which("ldconfig"):
        pytest.skip("the lookup is changed on Linux with ldconfig only")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    probes = {}
    for how in ("riskapp", "weasyprint"):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE, how],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        probes[how] = json.loads(done.stdout.strip().splitlines()[-1])
    assert probes["riskapp"]["libs"] == probes["weasyprint"]["libs"]
    assert {"libpango-1.0.so.0", "libharfbuzz.so.0"} <= {
        lib.split(".so.")[0] + ".so." + lib.split(".so.")[1].split(".")[0]
        for lib in probes["riskapp"]["libs"]
    }
    assert [Path(run[0]).name for run in probes["riskapp"]["runs"]] == ["ldconfig"]
    assert len(probes["weasyprint"]["runs"]) > 5  # what it saves: not a vacuous comparison


def test_the_ldconfig_lookup_finds_what_the_stdlib_finds() -> None:
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux") or not shutil.which("ldconfig"):
        pytest.skip("the lookup is changed on Linux with ldconfig only")
    names = ["pango-1.0", "harfbuzz", "fontconfig", "libpango-1.0-0", "no-such-library-x"]
    expected = {name: ctypes.util.find_library(name) for name in names}
    with weasy._libraries_from_ldconfig():
        found = {name: ctypes.util.find_library(name) for name in names}
    assert found == expected
    assert found["pango-1.0"] is not None and found["no-such-library-x"] is None


def test_frozen_heap_without_collection_freezes_what_exists_and_puts_it_back() -> None:
    if gc.get_freeze_count():
        pytest.skip("this process froze objects itself")

    class Cycle:
        other: Any = None

    garbage = Cycle()
    garbage.other = garbage
    del garbage
    with weasy.frozen_heap(collect=False):
        assert gc.get_freeze_count() > 0  # the cycle frozen with the rest: no collection first
    assert gc.get_freeze_count() == 0
    assert gc.collect() > 0  # the cycle is garbage again
