"""The cyclic garbage collector of a short process that does one job and exits: the `riskapp`
command (`riskapp.cli.main`) and the PDF's renderer process (`riskapp.reporting.pdfprocess`).

A command builds tables of up to millions of rows (the register's per-asset lists of tags and
dependencies are Python objects), and WeasyPrint makes millions of short-lived objects: the
collector's default first threshold (700 new objects) makes it scan young objects hundreds of
times, for garbage that reference counting frees anyway. GC_THRESHOLD keeps cycles collected (a
few MB at most wait) at a fraction of the passes. Imports only make objects that live until
the exit: the collector is off while they run (`start_quietly`; collecting then walked them
for nothing, 0.02-0.04 s of `riskapp validate`'s 0.65 s), and once they are done what they
made is frozen, so that no collection walks it again, and the collector is on (`start_done`).
"""

from __future__ import annotations

import gc

GC_THRESHOLD = (100_000, 50, 100)


def start_quietly() -> None:
    """The process's thresholds set and the collector off while it imports."""
    gc.set_threshold(*GC_THRESHOLD)
    gc.disable()


def start_done() -> None:
    """The start-up is over: what it made is frozen and the collector is on again (nothing
    changes where it is on already)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
