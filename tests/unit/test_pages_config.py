"""The pages file (config.pages): the directory of Pages and Instagram accounts, file:line problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.pages import (
    INSTAGRAM_INBOX_APP_ID,
    PagesDirectory,
    PagesError,
    load_pages,
)
from config.settings import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
FLOWS = str(ROOT / "config" / "flows.yaml")
ENV = {"ES_TOKEN": "EAAes-token", "FR_TOKEN": "EAAfr-token"}

# Line numbers matter: tests below assert them.
TWO_PAGES = """\
pages:
  - id: "1001"
    name: Shop Spain
    token_env: ES_TOKEN
    instagram_id: "1784001"
    username: shop.es
    instagram_username: "@shop_es"
  - id: 1002
    name: Shop France
    token_env: FR_TOKEN
    flows: {flows}
"""


def _settings(tmp_path: Path, text: str, **overrides: object) -> Settings:
    path = tmp_path / "pages.yaml"
    path.write_text(text.replace("{flows}", FLOWS))
    return Settings(pages_path=str(path), flows_path=FLOWS, page_inbox_app_id="263902037430900",
                    **overrides)  # type: ignore[arg-type]


def _problems(tmp_path: Path, text: str, env: dict[str, str] = ENV) -> list[str]:
    with pytest.raises(PagesError) as caught:
        load_pages(_settings(tmp_path, text), env)
    name = str(tmp_path / "pages.yaml")
    return [problem.removeprefix(name + ":") for problem in caught.value.problems]


def test_two_pages_and_an_instagram_account(tmp_path: Path) -> None:
    directory = load_pages(_settings(tmp_path, TWO_PAGES), ENV)
    assert not directory.single
    spain, france = directory.pages
    assert (spain.id, spain.name, spain.token, spain.token_env) == ("1001", "Shop Spain", "EAAes-token",
                                                                    "ES_TOKEN")
    assert (spain.flows_path, spain.instagram_id, spain.username, spain.instagram_username) == (
        FLOWS, "1784001", "shop.es", "shop_es")
    assert france.id == "1002" and france.token == "EAAfr-token" and france.instagram_id is None
    assert "EAAes-token" not in repr(spain)  # never printed

    messenger = directory.account("1001", "messenger")
    assert messenger is not None and messenger.page is spain
    assert messenger.handover_target == "263902037430900"
    instagram = directory.account("1784001", "instagram")
    assert instagram is not None and instagram.page is spain and instagram.channel == "instagram"
    assert instagram.handover_target == INSTAGRAM_INBOX_APP_ID
    assert directory.find("1784001") == instagram
    assert [a.id for a in directory.accounts()] == ["1001", "1784001", "1002"]
    assert directory.page("1002") is france


def test_an_account_not_listed_or_on_the_wrong_channel_is_not_served(tmp_path: Path) -> None:
    directory = load_pages(_settings(tmp_path, TWO_PAGES), ENV)
    assert directory.account("9999", "messenger") is None
    assert directory.account("1784001", "messenger") is None  # an Instagram id is not a Page
    assert directory.account("1001", "instagram") is None
    assert directory.find("9999") is None
    assert directory.page("1784001") is None


def test_without_a_file_one_page_serves_every_entry_as_today(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no config/pages.yaml here
    settings = Settings(messenger_page_access_token="EAAone", flows_path=FLOWS)
    directory = load_pages(settings, {})
    assert directory.single and len(directory.pages) == 1
    account = directory.account("555", "messenger")
    assert account is not None and account.id == "555" and account.page.id == "555"
    assert account.page.token == "EAAone" and account.page.flows_path == FLOWS
    assert account.handover_target == settings.page_inbox_app_id
    assert directory.account("555", "instagram") is None  # Instagram needs a pages file


def test_config_pages_yaml_is_the_default_when_it_exists(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "pages.yaml").write_text(TWO_PAGES.replace("{flows}", FLOWS))
    directory = load_pages(Settings(flows_path=FLOWS), ENV)
    assert not directory.single and [p.id for p in directory.pages] == ["1001", "1002"]


def test_pages_path_is_read_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"PAGES_PATH": "elsewhere/pages.yaml", "SECRET_KEY": "k"},
                             dotenv=str(tmp_path / "none"))
    assert settings.pages_path == "elsewhere/pages.yaml"


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    settings = Settings(pages_path=str(tmp_path / "nope.yaml"))
    with pytest.raises(PagesError, match=r"nope.yaml:1: cannot read the file"):
        load_pages(settings, ENV)


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    text = """\
pages:
  - id: "1001"
    token_env: ES_TOKEN
    colour: blue
  - id: "1001"
    token_env: FR_TOKEN
  - name: No id
    token_env: NOT_SET
  - id: shop-fr
    instagram_id: "1784001"
  - id: "1003"
    token_env: ES_TOKEN
    instagram_id: "1784001"
  - id: "1004"
    token_env: FR TOKEN
    instagram_id: "1001"
    username: "not a name"
"""
    problems = _problems(tmp_path, text)
    assert problems == [
        "4: pages[0].colour: unknown key; allowed here: id, name, token_env, flows, instagram_id, "
        "username, instagram_username",
        "5: pages[1].id: 1001 is already listed on line 2 (each Page and Instagram account once)",
        "7: pages[2].id: required, but missing (the Page id, in quotes)",
        "8: pages[2].token_env: the environment variable NOT_SET is not set",
        "9: pages[3].id: expected a numeric id in quotes, like \"104123456789012\"; found 'shop-fr'",
        "9: pages[3].token_env: required, but missing (the environment variable holding this Page's "
        "access token)",
        "12: pages[4].token_env: ES_TOKEN is already the token of the Page on line 3 (each Page has "
        "its own token)",
        "13: pages[4].instagram_id: 1784001 is already listed on line 10 (each Page and Instagram "
        "account once)",
        "15: pages[5].token_env: expected an environment variable name like SHOP_PAGE_TOKEN, found "
        "'FR TOKEN'",
        "16: pages[5].instagram_id: 1001 is already listed on line 2 (each Page and Instagram account "
        "once)",
        "17: pages[5].username: expected a username (letters, digits, dots, underscores), found "
        "'not a name'",
    ]


def test_a_flows_file_that_is_missing_or_broken_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken-flows.yaml"
    broken.write_text("default_locale: en\nlocales: [en]\nsurprise: 1\n")
    text = f"""\
pages:
  - id: "1001"
    token_env: ES_TOKEN
    flows: {tmp_path / "missing.yaml"}
  - id: "1002"
    token_env: FR_TOKEN
    flows: {broken}
"""
    first, second = _problems(tmp_path, text)
    assert first.startswith(f"4: pages[0].flows: flows file refused: {tmp_path / 'missing.yaml'}:1: "
                            "cannot read the file")
    assert second.startswith(f"7: pages[1].flows: flows file refused: {broken}:")
    assert "more: run `flows check" in second


@pytest.mark.parametrize(("text", "problem"), [
    ("", "1: expected a mapping with a list of pages"),
    ("pages: []\n", "1: pages: expected a list of at least one Page"),
    ("page:\n  - id: '1'\n", "1: page: unknown key; allowed here: pages"),
    ("pages:\n  - just text\n", "2: pages[0]: expected a mapping with id and token_env"),
    ("pages:\n  - id: [1\n", "3: YAML syntax error"),
])
def test_the_shape_of_the_file_is_checked(tmp_path: Path, text: str, problem: str) -> None:
    assert _problems(tmp_path, text)[0].startswith(problem)


def test_pages_error_is_a_configuration_error_that_names_no_token(tmp_path: Path) -> None:
    text = 'pages:\n  - id: "1001"\n    token_env: ES_TOKEN\n    colour: 1\n'
    with pytest.raises(ConfigError) as caught:
        load_pages(_settings(tmp_path, text), ENV)
    assert "EAAes-token" not in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "pages.yaml") + ":4: ")


def test_a_directory_can_be_built_from_pages_directly() -> None:
    from config.pages import Page

    page = Page("7", "Seven", "tok", "SEVEN", FLOWS, instagram_id="8")
    directory = PagesDirectory((page,), inbox_app_id="263902037430900")
    assert directory.account("8", "instagram").page is page  # type: ignore[union-attr]


def test_the_example_file_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # its flows path is relative to the project, as deployed
    settings = Settings(pages_path="config/pages.example.yaml", flows_path=FLOWS)
    directory = load_pages(settings, {"SHOP_ES_PAGE_TOKEN": "EAAes", "SHOP_FR_PAGE_TOKEN": "EAAfr"})
    assert [page.name for page in directory.pages] == ["Shop Spain", "Shop France"]
