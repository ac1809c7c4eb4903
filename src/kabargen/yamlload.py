"""Safe YAML loading that keeps line numbers and takes every scalar as written.

Scalars are returned as strings (or None for `~`, `null` and empty values) so that
`tags: [no, on, 2025]` stay the text the author typed; the caller converts dates,
numbers and booleans where a field wants them and can then point at the line.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # libyaml is about 8x faster; the pure-Python loader gives the same result
    _BaseLoader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

# An alias bomb ("billion laughs") shares nodes; walking it would expand them.
MAX_NODES = 100_000

_NULLS = {"", "~", "null", "Null", "NULL"}
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}


class _PlainLoader(_BaseLoader):
    """A safe loader that resolves no implicit types: every plain scalar is a string."""

    yaml_implicit_resolvers: dict = {}


class YamlProblem(Exception):
    """A YAML document that cannot be used, with the 1-based line of the problem."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def load(text: str, first_line: int = 1) -> tuple[Any, dict[str, int]]:
    """Parse one YAML document; return (data, lines) where lines maps dotted keys to lines.

    `first_line` is the file line of the document's first line. Raises YamlProblem.
    """
    loader = _PlainLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(first_line, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        return None, {}
    lines: dict[str, int] = {}
    budget = [MAX_NODES]
    data = _convert(node, "", lines, first_line, budget)
    return data, lines


def _convert(node, key: str, lines: dict[str, int], first_line: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlProblem(
            first_line + node.start_mark.line,
            "YAML document too large or too many aliases (a possible alias bomb)",
        )
    line = first_line + node.start_mark.line
    if node.tag not in _STANDARD_TAGS:
        raise YamlProblem(line, f"YAML tag {node.tag!r} is not allowed")
    if key and key not in lines:
        lines[key] = line
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem(first_line + key_node.start_mark.line, "a key must be plain text")
            if key_node.tag == "tag:yaml.org,2002:merge" or key_node.value == "<<":
                raise YamlProblem(first_line + key_node.start_mark.line, "YAML merge keys are not supported")
            name = key_node.value
            if name in result:
                raise YamlProblem(first_line + key_node.start_mark.line, f"duplicate key {name!r}")
            child = f"{key}.{name}" if key else name
            lines[child] = first_line + key_node.start_mark.line
            result[name] = _convert(value_node, child, lines, first_line, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, f"{key}.{i}" if key else str(i), lines, first_line, budget)
            for i, item in enumerate(node.value)
        ]
    if node.style is None and node.value in _NULLS:
        return None
    return node.value
