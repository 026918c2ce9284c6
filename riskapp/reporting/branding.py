"""Branding from a file and from options: the CLI and the Reports page build it the same way.

A branding file is YAML with the fields of `Branding` (every field optional)::

    client: ACME Industrial SE
    author: Jane Analyst, Example Consulting
    title: Geopolitical risk assessment
    logo: acme-logo.png          # relative to this file; PNG, JPEG or SVG
    accent_colour: "#0072B2"     # quote it: YAML reads # as a comment
    confidentiality: Strictly confidential
    locale: de                   # number and date formats: en or de

Problems are reported with their line (riskapp.InputError), like every other input file.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from pydantic import ValidationError

from riskapp.reporting.logo import MAX_LOGO_BYTES, LogoError, read_logo
from riskapp.reporting.options import Branding, load_branding

__all__ = ["EXAMPLE", "Branding", "branding_from", "load_branding", "save_logo"]

EXAMPLE = __doc__.split("::", 1)[1].split("\n\nProblems", 1)[0] if __doc__ else ""


def branding_from(
    file: str | Path | None = None,
    **overrides: object,
) -> Branding:
    """The branding of a file (or the defaults) with the given fields replaced.

    Overrides that are None or "" are ignored, so CLI options and form fields can be passed
    straight through. Raises riskapp.InputError for a bad file and ValueError (with the
    field and what was expected) for a bad override."""
    base = load_branding(file) if file is not None else Branding()
    given = {k: v for k, v in overrides.items() if v is not None and v != ""}
    try:
        branding = Branding.model_validate({**base.model_dump(), **given}) if given else base
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"branding {field}: {first['msg']}") from None
    if branding.logo is not None:
        read_logo(branding.logo)  # LogoError (a ValueError) names the file and the reason
    return branding


def save_logo(data: bytes, name: str, folder: Path | None = None) -> Path:
    """Keep an uploaded logo, checked and cleaned (`read_logo`), in a file named by content
    hash so that a `Branding` can point at it; returns the path. Raises LogoError naming the
    upload and the reason: too large, not an image, an SVG with entities, not well formed."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".png", ".jpg", ".jpeg", ".svg"):
        raise LogoError(f"{name}: the logo must be a .png, .jpg or .svg file")
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(f"{name}: the logo is larger than {MAX_LOGO_BYTES // 1_000_000} MB")
    where = folder or Path(tempfile.gettempdir()) / "riskapp-logos"
    where.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        raw = Path(tmp) / f"upload{suffix}"
        raw.write_bytes(data)
        try:
            logo = read_logo(raw)
        except LogoError as exc:
            raise LogoError(str(exc).replace(str(raw), name)) from None
    kept = ".svg" if logo.is_svg else ".png"
    path = where / f"{hashlib.sha256(logo.data).hexdigest()[:16]}{kept}"
    if not path.exists():
        tmp_path = path.with_suffix(path.suffix + ".part")
        tmp_path.write_bytes(logo.data)
        tmp_path.replace(path)
    return path
