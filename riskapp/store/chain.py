"""The audit trail's hash chain: how an entry's hash is computed and how a chain is checked.

Every entry carries `prev_hash` (the hash of the entry before it; 64 zeros for the first) and
`hash` = SHA-256 of `prev_hash` followed by a canonical, versioned serialisation of the entry's
fields. Changing, removing or replacing any entry breaks the chain from that entry on; removing
entries at the end (truncation) is found by comparing the head hash with one recorded outside
the database (`riskapp audit verify --expect-head`).

The chain is a check, not a lock: whoever can write the table can rebuild a consistent chain
from scratch. What it adds is that such a rewrite cannot hide from a head hash (or count)
recorded elsewhere, and that the store itself never rewrites history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from json.encoder import encode_basestring
from typing import Any

GENESIS = "0" * 64
CHAIN_FORMAT = "riskapp-audit-v1"
FIELDS = (  # the order canonical() writes them in, after CHAIN_FORMAT
    "seq",
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "field",
    "old_value",
    "new_value",
    "version",
    "note",
)
MAX_BREAKS = 20
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# the append-only guard triggers the migrations create (verify checks they are still there)
SQLITE_GUARDS = ("audit_log_no_update", "audit_log_no_delete", "audit_log_no_replace")
POSTGRES_GUARDS = ("audit_log_no_change", "audit_log_no_truncate")
POSTGRES_GUARD_SOURCE = "audit_log is append-only"


def canonical(entry: Mapping[str, Any]) -> str:
    """The entry's fields as one JSON array, versioned: the text its hash is computed over."""
    at = entry["at"]
    return _ENCODE(
        [
            CHAIN_FORMAT,
            entry["seq"],
            at.isoformat(timespec="microseconds") if isinstance(at, datetime) else at,
            entry["actor"],
            entry["action"],
            entry["entity"],
            entry["entity_id"],
            entry["field"],
            entry["old_value"],
            entry["new_value"],
            entry["version"],
            entry["note"],
        ]
    )


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the previous entry's hash followed by this entry's canonical text."""
    return hashlib.sha256((prev_hash + canonical(entry)).encode("utf-8")).hexdigest()


def link(
    head_seq: int, head_hash: str, entries: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """`entries` numbered and chained after the head (seq, hash): each gets seq, prev_hash and
    hash."""
    out = []
    seq, prev = head_seq, head_hash
    for entry in entries:
        seq += 1
        row = {**entry, "seq": seq, "prev_hash": prev}
        row["hash"] = prev = entry_hash(prev, row)
        out.append(row)
    return out


def chained(
    head_seq: int,
    head_hash: str,
    shared: Mapping[str, Any],
    entity_ids: Sequence[str],
    fields: Sequence[str],
    old_values: Sequence[str | None],
    new_values: Sequence[str | None],
    versions: Sequence[int | None],
) -> Iterator[tuple[int, str, str]]:
    """seq, prev_hash and hash of each entry chained after the head, given column by column
    (one at a time, as they are computed): the entries of one change, which share `at`,
    `actor`, `action`, `entity` and `note` (`shared`). The same hashes `link` computes for the
    same entries: each entry's text is `canonical`'s, put together from its parts encoded the
    way the JSON encoder encodes them (text, integers, null)."""
    at = shared["at"]
    at_text = at.isoformat(timespec="microseconds") if isinstance(at, datetime) else at
    head = f"[{encode_basestring(CHAIN_FORMAT)},"
    middle = "".join(
        f",{encode_basestring(v)}"
        for v in (at_text, shared["actor"], shared["action"], shared["entity"])
    )
    tail = f",{encode_basestring(shared['note'])}]"
    sha256 = hashlib.sha256
    prev = head_hash
    for seq, entity_id, field_name, old, new, version in zip(
        count(head_seq + 1), entity_ids, fields, old_values, new_values, versions, strict=False
    ):
        text = (
            f"{head}{seq}{middle},{encode_basestring(entity_id)},{encode_basestring(field_name)},"
            f"{'null' if old is None else encode_basestring(old)},"
            f"{'null' if new is None else encode_basestring(new)},"
            f"{'null' if version is None else int.__repr__(version)}{tail}"
        )
        digest = sha256((prev + text).encode("utf-8")).hexdigest()
        yield seq, prev, digest
        prev = digest


def link_columns(
    head_seq: int,
    head_hash: str,
    shared: Mapping[str, Any],
    entity_ids: Sequence[str],
    fields: Sequence[str],
    old_values: Sequence[str | None],
    new_values: Sequence[str | None],
    versions: Sequence[int | None],
) -> tuple[list[int], list[str], list[str]]:
    """`chained`, as three lists: seq, prev_hash and hash."""
    out = list(
        chained(head_seq, head_hash, shared, entity_ids, fields, old_values, new_values, versions)
    )
    return [s for s, _, _ in out], [p for _, p, _ in out], [h for _, _, h in out]


@dataclass(frozen=True)
class ChainBreak:
    """One place where the chain does not hold: the entry's seq and what is wrong."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.problem}"


@dataclass
class ChainCheck:
    """Walks a chain entry by entry (in seq order) and collects what is wrong."""

    count: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    breaks: list[ChainBreak] = field(default_factory=list)
    hashes_seen: dict[str, int] = field(default_factory=dict)
    watch: frozenset[str] = frozenset()

    def add(self, entry: Mapping[str, Any]) -> None:
        seq = int(entry["seq"])
        first = self.count == 0
        if not first and seq <= self.head_seq:
            self._break(seq, f"out of order after seq {self.head_seq}")
        linked = entry["prev_hash"] == self.head_hash
        if not linked:
            if first:
                self._break(
                    seq,
                    "the first entry does not start the chain (its prev_hash is not the "
                    "genesis value): entries before it were removed, or it was changed",
                )
            elif seq > self.head_seq + 1:
                missing = (
                    f"seq {self.head_seq + 1}"
                    if seq == self.head_seq + 2
                    else f"seq {self.head_seq + 1} to {seq - 1}"
                )
                self._break(
                    seq, f"{missing} missing: entries were removed after seq {self.head_seq}"
                )
            else:
                self._break(
                    seq,
                    f"does not link to seq {self.head_seq} (prev_hash differs from its hash): "
                    f"seq {self.head_seq} was changed or replaced, or this entry was",
                )
        # a gap the chain links over was there when the chain was built (seq numbers taken by
        # rolled-back transactions before hashing): nothing was removed since.
        if entry_hash(str(entry["prev_hash"]), entry) != entry["hash"]:
            self._break(seq, "its content does not match its hash: the entry was changed")
        self.count += 1
        self.head_seq = seq
        self.head_hash = str(entry["hash"])
        if self.head_hash in self.watch:
            self.hashes_seen[self.head_hash] = seq

    def _break(self, seq: int, problem: str) -> None:
        if len(self.breaks) < MAX_BREAKS:
            self.breaks.append(ChainBreak(seq, problem))


def check_chain(entries: Iterable[Mapping[str, Any]]) -> ChainCheck:
    """Check a whole chain (entries in seq order)."""
    check = ChainCheck()
    for entry in entries:
        check.add(entry)
    return check


@dataclass(frozen=True)
class AuditVerification:
    """What `verify_audit` found: `ok` when the chain is intact, every guard is in place and
    any recorded head or count is still there."""

    count: int
    head_seq: int
    head_hash: str
    breaks: list[ChainBreak]
    missing_guards: list[str]
    expectation_problems: list[str]

    @property
    def ok(self) -> bool:
        return not (self.breaks or self.missing_guards or self.expectation_problems)

    @property
    def first_broken_seq(self) -> int | None:
        return self.breaks[0].seq if self.breaks else None

    def problems(self) -> list[str]:
        """Every problem in words, the first chain break first."""
        return (
            [str(b) for b in self.breaks]
            + [f"append-only guard {g}" for g in self.missing_guards]
            + self.expectation_problems
        )
