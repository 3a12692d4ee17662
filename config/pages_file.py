"""Read and check the pages file: every problem as `file:line: message`, like the flows file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from bot.flows.loader import FlowsError, _line_of, _read_yaml, load_flows
from config.pages import Page, PagesError

KEYS = ("id", "name", "token_env", "flows", "instagram_id", "username", "instagram_username")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_USERNAME = re.compile(r"[A-Za-z0-9._]{1,64}")
EXAMPLE = 'pages: [{id: "104...", name: Shop, token_env: SHOP_PAGE_TOKEN}]'


class _Check:
    """Collects problems while one file is read."""

    def __init__(self, name: str, root: Any, env: Mapping[str, str], default_flows: str) -> None:
        self.name, self.root, self.env, self.default_flows = name, root, env, default_flows
        self.problems: list[tuple[int, str]] = []
        self.ids: dict[str, int] = {}  # every Page and Instagram id -> line it is listed on
        self.token_envs: dict[str, int] = {}

    def problem(self, loc: tuple[Any, ...], message: str) -> None:
        self.problems.append((_line_of(self.root, loc), message))

    def line(self, loc: tuple[Any, ...]) -> int:
        return _line_of(self.root, loc)


def read_pages(path: Path, env: Mapping[str, str], *, default_flows: str) -> tuple[Page, ...]:
    name = str(path)
    try:
        root = _read_yaml(path, name)
    except FlowsError as error:
        raise PagesError([str(problem) for problem in error.problems]) from None
    check = _Check(name, root, env, default_flows)
    entries = _entries(check)
    pages = [page for n, entry in enumerate(entries) if (page := _page(check, n, entry))]
    if check.problems:
        ordered = sorted(dict.fromkeys(check.problems), key=lambda item: item[0])
        raise PagesError([f"{name}:{line}: {message}" for line, message in ordered])
    return tuple(pages)


def _entries(check: _Check) -> list[Any]:
    root = check.root
    if not isinstance(root, Mapping):
        check.problem((), f"expected a mapping with a list of pages, like {EXAMPLE}")
        return []
    for key in root:
        if key != "pages":
            check.problem((key,), f"{key}: unknown key; allowed here: pages")
    entries = root.get("pages")
    if "pages" not in root:
        check.problem((), f"pages: required, but missing (e.g. {EXAMPLE})")
    elif not isinstance(entries, list) or not entries:
        check.problem(("pages",), "pages: expected a list of at least one Page")
    else:
        return list(entries)
    return []


def _page(check: _Check, n: int, entry: Any) -> Page | None:
    where = f"pages[{n}]"
    if not isinstance(entry, CommentedMap):
        check.problem(("pages", n), f"{where}: expected a mapping with id and token_env")
        return None
    before = len(check.problems)
    for key in entry:
        if key not in KEYS:
            check.problem(("pages", n, key), f"{where}.{key}: unknown key; allowed here: {', '.join(KEYS)}")
    page_id = _numeric_id(check, n, entry, "id", required=True)
    instagram_id = _numeric_id(check, n, entry, "instagram_id", required=False)
    token_env, token = _token(check, n, entry)
    flows_path = _flows(check, n, entry)
    name = _text(check, n, entry, "name")
    username = _username(check, n, entry, "username")
    instagram_username = _username(check, n, entry, "instagram_username")
    if len(check.problems) > before or page_id is None or token is None:
        return None
    return Page(page_id, name or page_id, token, token_env or "", flows_path, instagram_id,
                username, instagram_username)


def _numeric_id(check: _Check, n: int, entry: Any, key: str, *, required: bool) -> str | None:
    loc, where = ("pages", n, key), f"pages[{n}].{key}"
    if key not in entry:
        if required:
            check.problem(("pages", n), f"{where}: required, but missing (the Page id, in quotes)")
        return None
    value = entry[key]
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isdigit() or not text.isascii():
        check.problem(loc, f"{where}: expected a numeric id in quotes, like \"104123456789012\"; "
                           f"found {value!r}")
        return None
    line = check.line(loc)
    if text in check.ids:
        check.problem(loc, f"{where}: {text} is already listed on line {check.ids[text]} "
                           f"(each Page and Instagram account once)")
        return None
    check.ids[text] = line
    return text


def _token(check: _Check, n: int, entry: Any) -> tuple[str | None, str | None]:
    loc, where = ("pages", n, "token_env"), f"pages[{n}].token_env"
    if "token_env" not in entry:
        check.problem(("pages", n), f"{where}: required, but missing (the environment variable "
                                    f"holding this Page's access token)")
        return None, None
    env_name = entry["token_env"]
    if not isinstance(env_name, str) or not _ENV_NAME.fullmatch(env_name):
        check.problem(loc, f"{where}: expected an environment variable name like SHOP_PAGE_TOKEN, "
                           f"found {env_name!r}")
        return None, None
    if env_name in check.token_envs:
        check.problem(loc, f"{where}: {env_name} is already the token of the Page on line "
                           f"{check.token_envs[env_name]} (each Page has its own token)")
        return env_name, None
    check.token_envs[env_name] = check.line(loc)
    token = (check.env.get(env_name) or "").strip()
    if not token:
        check.problem(loc, f"{where}: the environment variable {env_name} is not set")
        return env_name, None
    return env_name, token


def _flows(check: _Check, n: int, entry: Any) -> str:
    if "flows" not in entry:
        return check.default_flows
    loc, where, value = ("pages", n, "flows"), f"pages[{n}].flows", entry["flows"]
    if not isinstance(value, str) or not value.strip():
        check.problem(loc, f"{where}: expected the path of a flows file, found {value!r}")
        return check.default_flows
    try:
        load_flows(value)
    except FlowsError as error:
        first, more = error.problems[0], len(error.problems) - 1
        also = f" (and {more} more: run `flows check {value}`)" if more else ""
        check.problem(loc, f"{where}: flows file refused: {first}{also}")
    return value


def _text(check: _Check, n: int, entry: Any, key: str) -> str | None:
    value = entry.get(key)
    if value is None and key not in entry:
        return None
    if not isinstance(value, str) or not value.strip():
        check.problem(("pages", n, key), f"pages[{n}].{key}: expected text, found {value!r}")
        return None
    return value.strip()


def _username(check: _Check, n: int, entry: Any, key: str) -> str | None:
    value = _text(check, n, entry, key)
    if value is None:
        return None
    value = value.removeprefix("@")
    if not _USERNAME.fullmatch(value):
        check.problem(("pages", n, key), f"pages[{n}].{key}: expected a username (letters, digits, "
                                         f"dots, underscores), found {value!r}")
        return None
    return value
