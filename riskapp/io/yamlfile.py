"""Safe YAML loading that remembers the line of every key and list item.

Only plain data is built (yaml.SafeLoader: no Python objects are ever constructed);
duplicate keys, oversized files, non-UTF-8 text and alias bombs are refused.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml

from riskapp.io.errors import InputError, Problem

MAX_YAML_BYTES = 5_000_000
MAX_NODES = 500_000
MAX_DEPTH = 50  # nesting levels; riskapp files need fewer than 10


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses documents nested deeper than MAX_DEPTH, with the line where the
    limit is crossed, before PyYAML's recursive composer can exhaust the stack."""

    def __init__(self, stream: str, name: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.name = name

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
                raise InputError(
                    [
                        Problem(
                            self.name,
                            line,
                            "",
                            f"YAML nested more than {MAX_DEPTH} levels deep; "
                            "riskapp files need far fewer",
                        )
                    ]
                )
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self.depth -= 1


Path_ = tuple[str | int, ...]


def check_file(path: Path, max_bytes: int, name: str) -> None:
    """A regular file no larger than `max_bytes`, or the problem with it."""
    if not path.exists():
        raise InputError([Problem(name, None, "", "file not found")])
    if path.is_dir():
        raise InputError([Problem(name, None, "", "expected a file, found a directory")])
    if not path.is_file():  # a device such as /dev/zero, a FIFO, a socket
        raise InputError([Problem(name, None, "", "expected a regular file")])
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    "",
                    f"file is {size / 1e6:.1f} MB; the limit for this kind of file is "
                    f"{max_bytes / 1e6:.0f} MB",
                )
            ]
        )


def read_text(path: Path, max_bytes: int, label: str | None = None, unit: str = "line") -> str:
    """File contents as text; clear errors for missing, empty, huge or non-UTF-8 files."""
    name = label or str(path)
    check_file(path, max_bytes, name)
    with path.open("rb") as fh:  # never more than the limit, even if the file grows meanwhile
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise InputError([Problem(name, None, "", f"file is larger than {max_bytes / 1e6:.0f} MB")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf16 = utf16_problem(raw[:2], name, unit)
        if utf16 is not None:
            raise utf16 from None
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            [
                Problem(
                    name,
                    line,
                    "",
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                    "save the file as UTF-8",
                    unit,
                )
            ]
        ) from None
    if not text.strip():
        raise InputError([Problem(name, None, "", "file is empty")])
    return text


def utf16_problem(head: bytes, name: str, unit: str = "line") -> InputError | None:
    """The problem of a file that starts with a UTF-16 byte-order mark, or None."""
    if head[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        return None
    return InputError(
        [
            Problem(
                name,
                1,
                "",
                "the file is UTF-16 text (Excel's 'Unicode text'); save it as UTF-8 "
                "(CSV UTF-8 in Excel)",
                unit,
            )
        ]
    )


def _reader_problem(exc: yaml.reader.ReaderError, text: str, name: str) -> InputError:
    line = text[: exc.position].count("\n") + 1
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return InputError(
        [
            Problem(
                name,
                line,
                "",
                f"malformed YAML: control character {char!r} (U+{ord(char):04X}) is not "
                "allowed; remove it",
            )
        ]
    )


class LineMap:
    """Line numbers (1-based) of the nodes of a YAML document, by their path."""

    def __init__(self, lines: dict[Path_, int]) -> None:
        self._lines = lines

    def line(self, loc: Path_) -> int | None:
        """Line of the deepest known node on `loc` (pydantic error locations fit)."""
        loc = tuple(loc)
        while True:
            if loc in self._lines:
                return self._lines[loc]
            if not loc:
                return None
            loc = loc[:-1]


def _walk(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], counter: list[int], name: str
) -> None:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise InputError(
            [Problem(name, None, "", f"document has more than {MAX_NODES} nodes (alias bomb?)")]
        )
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise InputError(
                    [
                        Problem(
                            name,
                            line,
                            ".".join(str(p) for p in (*path, key)),
                            f"duplicate key {key!r} (first given on line {seen[key]})",
                        )
                    ]
                )
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, counter, name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), lines, counter, name)


def _compose_fast(text: str) -> tuple[yaml.Node, Any] | None:
    """The document's node composed by libyaml (PyYAML's C parser, about 15x faster than the
    pure-Python one) with the loader that constructs it; None when libyaml is missing, the
    document nests deeper than MAX_DEPTH (libyaml's composer recurses without a limit, so the
    depth is counted on its event stream first) or anything is wrong with it: the pure-Python
    loader then reads it again and words the problem."""
    c_loader = getattr(yaml, "CSafeLoader", None)
    if c_loader is None:
        return None
    opening = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        probe = c_loader(text)
        try:
            depth = 0
            while (event := probe.get_event()) is not None:
                if isinstance(event, opening):
                    depth += 1
                    if depth > MAX_DEPTH:
                        return None
                elif isinstance(event, closing):
                    depth -= 1
        finally:
            probe.dispose()
        loader = c_loader(text)
        node = loader.get_single_node()
    except yaml.YAMLError:
        return None
    if node is None:
        loader.dispose()
        return None
    return node, loader


# what `parse_once` remembers: (device, inode, size, modification time) -> data, line map
_PARSED: ContextVar[dict[tuple[int, int, int, int], tuple[Any, LineMap]] | None] = ContextVar(
    "riskapp_yaml_parsed", default=None
)


@contextmanager
def parse_once() -> Iterator[None]:
    """Within the block, a YAML file read again is not parsed again: the same file (device,
    inode, size and modification time) gives its first reading's data and line map. For one
    check of several paths that share files (`riskapp validate demo scenarios`: the demo reads
    the scenario library) and of a file read twice (its kind, then its model). The data is
    shared: readers must not change it. Only readings that succeeded are kept, and nothing is
    kept after the block (a file edited between two commands is read again)."""
    if _PARSED.get() is not None:  # nested: the outer block's readings serve
        yield
        return
    token = _PARSED.set({})
    try:
        yield
    finally:
        _PARSED.reset(token)


def load_yaml(path: Path, label: str | None = None) -> tuple[Any, LineMap]:
    """Parse one YAML document safely; return the data and the line map (inside `parse_once`,
    a file already read gives its first reading)."""
    parsed = _PARSED.get()
    if parsed is None:
        return _load_yaml(path, label)
    try:
        st = path.stat()
    except OSError:
        return _load_yaml(path, label)  # words what is wrong with the path
    if not stat.S_ISREG(st.st_mode):
        return _load_yaml(path, label)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in parsed:
        parsed[key] = _load_yaml(path, label)
    return parsed[key]


def _load_yaml(path: Path, label: str | None = None) -> tuple[Any, LineMap]:
    name = label or str(path)
    text = read_text(path, MAX_YAML_BYTES, name)
    fast = _compose_fast(text)
    if fast is not None:
        node, loader = fast
        try:
            lines: dict[Path_, int] = {}
            _walk(node, (), lines, [0], name)
            try:
                data = loader.construct_document(node)
            except yaml.YAMLError:
                pass  # e.g. a tag riskapp does not allow: worded by the slower reading below
            else:
                return data, LineMap(lines)
        finally:
            loader.dispose()
    return _load_slow(text, name)


def _load_slow(text: str, name: str) -> tuple[Any, LineMap]:
    """The pure-Python reading: depth bounded while composing, every problem worded."""
    try:
        loader = BoundedLoader(text, name)
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(exc, text, name) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError([Problem(name, None, "", "file holds no YAML document")])
        lines: dict[Path_, int] = {}
        _walk(node, (), lines, [0], name)
        data = loader.construct_document(node)
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(exc, text, name) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "invalid YAML"
        if what.startswith("expected <block end>") and exc.problem_mark is not None:
            # a key or list item indented less than the others of its block (or more than
            # the block's first key): the line to fix is that key's own, not the block's start
            opened = exc.context_mark.line + 1 if exc.context_mark is not None else line
            what = (
                f"line {line} is indented differently from the keys or items above it (the "
                f"block starts on line {opened}); line it up with them"
            )
        elif what == "mapping values are not allowed here":
            # a key indented further than the one above it, read as part of that key's value
            what += "; is this key indented further than the one above it?"
        elif exc.context and exc.context_mark is not None and exc.problem_mark is not None:
            # e.g. an unclosed bracket or quote: the parser gives up later, often at the end
            # of the file; the line the construct opened on is where the user must look
            opened = exc.context_mark.line + 1
            what = f"{what}, {exc.context.removeprefix('while ')} that starts on line {opened}"
            line = opened
        if "constructor for the tag" in what:
            what = what.replace("could not determine a constructor for the tag", "tag")
            what += " is not allowed: riskapp files hold plain data only"
        raise InputError([Problem(name, line, "", f"malformed YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, None, "", f"malformed YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return data, LineMap(lines)
