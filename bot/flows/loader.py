"""Read the flows file into `Flows`, or explain every problem in it with file and line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from bot.flows.handoff_config import HandoffConfig, HandoffTexts
from bot.flows.satisfaction_config import SatisfactionConfig
from bot.flows.schema import Button, Flow, Flows, Menu, Step, Tickets, TicketType
from bot.flows.text import Loc, quote


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class FlowsError(Exception):
    """The flows file cannot be used; `problems` says why, sorted by line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(dict.fromkeys(problems), key=lambda problem: problem.line)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def load_flows(path: str | Path) -> Flows:
    name = str(path)
    data = _read_yaml(Path(path), name)
    if not isinstance(data, Mapping):
        found = "an empty file" if data is None else _describe(data)
        keys = "default_locale, locales, greeting, menu, fallback and flows"
        raise FlowsError([Problem(name, 1, f"expected a mapping of {keys}; found {found}")])
    if "source" in data:
        raise FlowsError([Problem(name, _line_of(data, ("source",)), _unknown_key(Flows))])
    try:
        return Flows.model_validate({**data, "source": name})
    except ValidationError as error:
        raise FlowsError(_problems(error, data, name)) from None


def _read_yaml(path: Path, name: str) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise FlowsError([Problem(name, 1, f"cannot read the file: {error.strerror or error}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise FlowsError([Problem(name, line, "the file is not UTF-8 text")]) from None
    try:
        return YAML(typ="rt", pure=True).load(text)
    except YAMLError as error:
        raise FlowsError([_yaml_problem(error, name, text)]) from None
    except (ValueError, TypeError, AttributeError, RecursionError) as error:
        # ruamel.yaml raises these instead of a YAMLError on some malformed input.
        raise FlowsError([Problem(name, 1, f"YAML error: {error}")]) from None


def _yaml_problem(error: YAMLError, name: str, text: str) -> Problem:
    if isinstance(error, ReaderError):  # a control character: ruamel gives a position, not a mark
        line = text[: error.position].count("\n") + 1
        return Problem(name, line, f"unacceptable character #x{error.character:04x} "
                                   f"(control characters are not allowed in YAML)")
    if not isinstance(error, MarkedYAMLError) or error.problem_mark is None:
        return Problem(name, 1, "YAML error: " + " ".join(str(error).split()))
    line = error.problem_mark.line + 1
    message = f"YAML syntax error: {error.problem or error}"
    start = error.context_mark
    if error.context and start is not None and start.line + 1 != line:
        message += f" ({error.context}, which starts on line {start.line + 1})"
    return Problem(name, line, message)


def _problems(error: ValidationError, data: Mapping[Any, Any], name: str) -> list[Problem]:
    return [
        Problem(name, _line_of(data, e["loc"]), f"{_path(e['loc'])}: {_message(e)}") for e in error.errors()
    ]


def _line_of(root: object, loc: Loc) -> int:
    """1-based line of the deepest node of `loc` in the YAML; parents stand in for the rest."""
    line = getattr(getattr(root, "lc", None), "line", 0)
    node = root
    for part in loc:
        if isinstance(node, CommentedMap) and _has_key(node, part):
            line = _position(node.lc.key, part, line)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = _position(node.lc.item, part, line)
            node = node[part]
        else:
            break
    return line + 1


def _has_key(node: CommentedMap, key: object) -> bool:
    try:
        return key in node
    except TypeError:  # an unhashable part of the path
        return False


def _position(lookup: Any, part: str | int, fallback: int) -> int:
    try:
        return int(lookup(part)[0])
    except (KeyError, IndexError, TypeError):  # keys from a `<<` merge have no position
        return fallback


def _path(loc: Loc) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            path += " (key)"
        else:
            path += f".{part}" if path else str(part)
    return path or "(file)"


def _message(error: Any) -> str:
    kind, value = error["type"], error["input"]
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return _unknown_key(_model_at(error["loc"][:-1]))
    if kind == "string_type":
        return f"expected text, found {_describe(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping (key: value), found {_describe(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list like [a, b], found {_describe(value)}"
    return str(error["msg"])


def _unknown_key(model: type[BaseModel] | None) -> str:
    if model is None:
        return "unknown key"
    allowed = [name for name in model.model_fields if name not in ("id", "source")]
    return f"unknown key; allowed here: {', '.join(allowed)}"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model whose keys live at `loc`, e.g. ("flows", "billing") -> Flow."""
    shape = tuple("#" if isinstance(p, int) else p for p in loc)
    if len(shape) >= 2 and shape[0] == "flows":
        shape = ("flows", "*", *shape[2:])
    if len(shape) >= 3 and shape[:2] == ("tickets", "types"):
        shape = ("tickets", "types", "*", *shape[3:])
    return _MODELS.get(shape)


_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): Flows,
    ("menu",): Menu,
    ("flows", "*"): Flow,
    ("flows", "*", "messages", "#"): Step,
    ("flows", "*", "messages", "#", "buttons", "#"): Button,
    ("tickets",): Tickets,
    ("tickets", "types", "*"): TicketType,
    ("handoff",): HandoffConfig,
    ("handoff", "texts"): HandoffTexts,
    ("satisfaction",): SatisfactionConfig,
}


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool):
        return f"{str(value).lower()} (put it in quotes to make it text)"
    return f"{value} (put it in quotes to make it text)"
