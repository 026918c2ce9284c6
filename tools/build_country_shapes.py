"""Build riskapp/resources/geo/countries_110m.shapes.wkb from countries_110m.topojson.

    .venv/bin/python tools/build_country_shapes.py

The TopoJSON stays the source (geo/COUNTRIES.md); decoding it (delta-encoded arcs joined into
rings, rings across the antimeridian split, make_valid) takes about 0.05 s, which every process
that places routes or checks coordinates paid once. The same shapes, as WKB (exact: float64),
read in about 1 ms. tests/engine/test_countries_file.py checks that the file holds what a fresh
decoding gives; run this after changing the decoding or the TopoJSON.
"""

from __future__ import annotations

from riskapp.engine.countries import SHAPES_FILE, decode_countries, pack_shapes


def main() -> None:
    codes, shapes = decode_countries()
    SHAPES_FILE.write_bytes(pack_shapes(codes, shapes))
    print(f"{SHAPES_FILE}: {len(codes)} countries, {SHAPES_FILE.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
