"""Safe YAML loading that keeps line numbers and takes every scalar as written.

Scalars are returned as strings (or None for `~`, `null` and empty values) so that
`tags: [no, on, 2025]` stay the text the author typed; the caller converts dates,
numbers and booleans where a field wants them and can then point at the line.

The document is built from the parser's event stream in one loop, not by PyYAML's
composer and constructor: nothing is ever constructed from a tag (`!!python/...`
is an error), nesting depth and the size an alias would expand to are counted as
the events arrive (an alias bomb or a 10,000-deep list fails at once, with its
line, instead of eating memory or the stack), and an alias is shared, never copied.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:  # libyaml is about 8x faster; the pure-Python parser gives the same events
    _BaseLoader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

# Nodes a document may hold, counting every node an alias stands for: far above any
# real front matter or config, far below what hurts. An alias bomb goes over at once.
MAX_NODES = 100_000
# Deeper than any real front matter; keeps every later walk of the data far from the stack limit.
MAX_DEPTH = 64

_NULLS = {"", "~", "null", "Null", "NULL"}
_STANDARD_TAGS = {
    None,
    "!",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
# Control characters (escapes like "\x01" or "\0" in a double-quoted string) and the two
# non-characters: no text field needs them, HTML and XML cannot carry them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")


class _EventLoader(_BaseLoader):
    """A safe loader used only for its parser: no composer, constructor or resolver runs."""


class YamlProblem(Exception):
    """A YAML document that cannot be used, with the 1-based line of the problem."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _Frame:
    """A mapping or sequence being filled in, with what is needed to close it."""

    __slots__ = ("value", "key", "anchor", "size", "pending", "pending_line")

    def __init__(self, value, key: str, anchor: str | None):
        self.value = value
        self.key = key  # dotted path of this collection ("" at the top)
        self.anchor = anchor
        self.size = 1  # nodes, aliases expanded
        self.pending: str | None = None  # a mapping's key waiting for its value
        self.pending_line = 0


def load(text: str, first_line: int = 1) -> tuple[Any, dict[str, int]]:
    """Parse one YAML document; return (data, lines) where lines maps dotted keys to lines.

    `first_line` is the file line of the document's first line. Raises YamlProblem.
    """
    loader = _EventLoader(text)
    try:
        return _build(loader, first_line)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(first_line, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _build(loader, first_line: int) -> tuple[Any, dict[str, int]]:
    lines: dict[str, int] = {}
    anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, size)
    open_anchors: set[str] = set()
    stack: list[_Frame] = []
    documents = 0
    result: Any = None

    def line_of(event) -> int:
        return first_line + event.start_mark.line

    def place(value: Any, size: int, event) -> None:
        """Put a finished node into its parent (or make it the document)."""
        nonlocal result
        if not stack:
            result = value
            return
        parent = stack[-1]
        if isinstance(parent.value, list):
            parent.value.append(value)
        else:
            parent.value[parent.pending] = value
            parent.pending = None
        parent.size += size
        if parent.size > MAX_NODES:
            raise YamlProblem(line_of(event), "YAML document too large or too many aliases (a possible alias bomb)")

    def child_key(event) -> str:
        """The dotted key of the node that starts with EVENT; records the line of a sequence item."""
        parent = stack[-1] if stack else None
        if parent is None:
            return ""
        if isinstance(parent.value, list):
            index = str(len(parent.value))
            key = f"{parent.key}.{index}" if parent.key else index
            lines.setdefault(key, line_of(event))
            return key
        return f"{parent.key}.{parent.pending}" if parent.key else parent.pending

    while True:
        event = loader.get_event()
        if isinstance(event, yaml.StreamEndEvent):
            break
        if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentEndEvent)):
            continue
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise YamlProblem(line_of(event), "only one YAML document is allowed here: remove the extra '---'")
            continue
        tag = getattr(event, "tag", None)
        if tag not in _STANDARD_TAGS:
            raise YamlProblem(line_of(event), f"YAML tag {tag!r} is not allowed")
        awaiting_key = bool(stack) and isinstance(stack[-1].value, dict) and stack[-1].pending is None
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            if frame.anchor:
                open_anchors.discard(frame.anchor)
                anchors[frame.anchor] = (frame.value, frame.size)
            place(frame.value, frame.size, event)
            continue
        if awaiting_key:
            if not isinstance(event, yaml.ScalarEvent):
                raise YamlProblem(line_of(event), "a key must be plain text")
            name = event.value
            if name == "<<" and event.style in (None, ""):
                raise YamlProblem(line_of(event), "YAML merge keys are not supported")
            if name in stack[-1].value:
                raise YamlProblem(line_of(event), f"duplicate key {name!r}")
            stack[-1].pending = name
            key = f"{stack[-1].key}.{name}" if stack[-1].key else name
            lines[key] = line_of(event)
            continue
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise YamlProblem(line_of(event), f"alias *{event.anchor} refers to a collection that contains it")
            if event.anchor not in anchors:
                raise YamlProblem(line_of(event), f"alias *{event.anchor} has no anchor &{event.anchor} before it")
            value, size = anchors[event.anchor]
            child_key(event)
            place(value, size, event)
            continue
        if isinstance(event, yaml.ScalarEvent):
            child_key(event)
            bad = _CONTROL.search(event.value)
            if bad:
                raise YamlProblem(line_of(event), f"control character U+{ord(bad.group()):04X} in a value: remove it")
            value = None if event.style in (None, "") and event.value in _NULLS else event.value
            if event.anchor:
                anchors[event.anchor] = (value, 1)
            place(value, 1, event)
            continue
        # A mapping or sequence starts.
        if len(stack) >= MAX_DEPTH:
            raise YamlProblem(line_of(event), f"YAML nested more than {MAX_DEPTH} levels deep")
        key = child_key(event)
        frame = _Frame({} if isinstance(event, yaml.MappingStartEvent) else [], key, event.anchor)
        if event.anchor:
            open_anchors.add(event.anchor)
        stack.append(frame)
    return result, lines
