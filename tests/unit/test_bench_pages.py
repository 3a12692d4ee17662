"""`bench.e2e --pages P` (issue 18): the pages file it writes is one the product accepts,
customers are spread evenly over the Pages and every event addresses its customer's Page,
and the stand-in counts each Page's Send API calls per second (the rate check)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.load import StandinControl, bodies
from bench.pages_setup import PageSet
from bench.signed import ACCESS_TOKEN, APP_ID, APP_SECRET, PAGE_ID, psid, sign
from config.pages import load_pages
from config.settings import load_settings
from messenger.errors import GraphError
from messenger.graph import GraphClient
from messenger.standin import Standin, serve_standin
from messenger.standin.cli import parse_args
from messenger.standin.page_rates import SendSeconds


def _service_settings(tmp_path: Path, pages: PageSet):  # type: ignore[no-untyped-def]
    """What the web and worker processes read: settings, then the pages file."""
    env = {"SECRET_KEY": "k", "MESSENGER_APP_SECRET": APP_SECRET, "MESSENGER_APP_ID": APP_ID,
           **pages.service_environ(tmp_path)}
    settings = load_settings(env, dotenv=str(tmp_path / "no.env"))
    return env, load_pages(settings, env)


def test_the_pages_file_is_accepted_by_the_products_loader(tmp_path: Path) -> None:
    pages = PageSet.of(4)
    env, directory = _service_settings(tmp_path, pages)
    assert directory.source == env["PAGES_PATH"] and not directory.single
    assert [(p.id, p.token, p.token_env) for p in directory.pages] == [
        (p.id, p.token, p.token_env) for p in pages.pages]
    assert len({p.token for p in directory.pages}) == 4  # each Page its own token
    for page in pages.pages:
        account = directory.account(page.id, "messenger")
        assert account is not None and account.page.token == page.token
    assert "MESSENGER_PAGE_ACCESS_TOKEN" not in env


def test_one_page_is_todays_setup_without_a_pages_file(tmp_path: Path) -> None:
    pages = PageSet.of(1)
    env, directory = _service_settings(tmp_path, pages)
    assert env["MESSENGER_PAGE_ACCESS_TOKEN"] == ACCESS_TOKEN and "PAGES_PATH" not in env
    assert directory.single and directory.pages[0].token == ACCESS_TOKEN
    assert list(tmp_path.iterdir()) == []
    assert pages.pages[0].id == PAGE_ID and pages.pages[0].reference == psid(999_999)
    assert pages.standin_argv() == ["--page-id", PAGE_ID, "--access-token", ACCESS_TOKEN]


def test_customers_spread_evenly_and_each_event_addresses_its_customers_page() -> None:
    pages = PageSet.of(4)
    customers = [psid(j) for j in range(40)]
    page_of = pages.page_of(customers)
    assert Counter(page_of[c].id for c in customers) == {p.id: 10 for p in pages.pages}
    assert all(page_of[p.reference] == p for p in pages.pages)
    posts = bodies(customers, 3, tag="t", pages={c: p.id for c, p in page_of.items()})
    assert len(posts) == 120
    seen: Counter[str] = Counter()
    for body, signature, customer in posts:
        assert signature == sign(body)
        payload = json.loads(body)
        [entry] = payload["entry"]
        [event] = entry["messaging"]
        assert event["sender"]["id"] == customer
        page_id = page_of[event["sender"]["id"]].id
        assert entry["id"] == event["recipient"]["id"] == page_id
        seen[page_id] += 1
    assert seen == {p.id: 30 for p in pages.pages}


def test_the_standin_cli_takes_the_benchs_pages() -> None:
    pages = PageSet.of(3)
    args = parse_args([*pages.standin_argv(), "--app-id", APP_ID, "--app-secret", APP_SECRET])
    assert (args.page_id, args.access_token) == (pages.pages[0].id, pages.pages[0].token)
    assert args.other_page == [f"{p.id}={p.token}" for p in pages.pages[1:]]
    with pytest.raises(SystemExit):
        parse_args(["--page-id", "1", "--app-id", "2", "--app-secret", "s", "--access-token",
                    "t", "--other-page", "1002"])


def test_send_seconds_counts_each_whole_second_and_the_busiest_window() -> None:
    clock = iter([100.1, 100.5, 100.9, 101.2, 101.3, 103.0])
    seconds = SendSeconds(clock=lambda: next(clock))
    for admitted in (True, True, True, True, False, True):
        seconds.record(admitted)
    assert seconds.summary() == {"calls": 6, "refused": 1, "busiest_second": 4,  # 100.5..101.3
                                 "per_second": {"100": 3, "101": 2, "103": 1}}


@pytest.fixture
def two_pages() -> Iterator[tuple[StandinControl, list[GraphClient], list[Standin]]]:
    pages = PageSet.of(2)
    standins = [Standin(page_id=p.id, app_id=APP_ID, app_secret=APP_SECRET, access_token=p.token)
                for p in pages.pages]
    server, url = serve_standin(standins[0], others=standins[1:])
    clients = [GraphClient(access_token=p.token, app_secret=APP_SECRET, api_url=url, max_attempts=1)
               for p in pages.pages]
    yield StandinControl(url), clients, standins
    for client in clients:
        client.session.close()
    server.shutdown()
    for standin in standins:
        standin.close()


def test_the_standin_counts_each_pages_send_calls(two_pages) -> None:  # type: ignore[no-untyped-def]
    control, (first, second), (spain, france) = two_pages
    france.rate_limit_per_second = 2
    control.add_users(["ana"], spain.page_id)
    control.add_users(["zoe"], france.page_id)
    control.customer_says("ana", "hola", spain.page_id)
    control.customer_says("zoe", "salut", france.page_id)
    for n in range(3):
        first.send_message("ana", {"text": f"a{n}"})
    second.send_message("zoe", {"text": "z0"})
    second.send_message("zoe", {"text": "z1"})
    with pytest.raises(GraphError):  # over France's 2 calls a second; Spain's are its own
        second.send_message("zoe", {"text": "z2"})

    es, fr = control.send_rate(spain.page_id), control.send_rate(france.page_id)
    assert (es["page"], es["calls"], es["refused"], es["busiest_second"]) == (spain.page_id, 3, 0, 3)
    assert (fr["page"], fr["calls"], fr["refused"], fr["busiest_second"]) == (france.page_id, 3, 1, 3)
    assert sum(es["per_second"].values()) == 3 and sum(fr["per_second"].values()) == 3
    assert control.sent_texts("ana", spain.page_id) == ["a0", "a1", "a2"]
    assert control.sent_texts("zoe", france.page_id) == ["z0", "z1"]
    assert control.sent_texts("zoe", spain.page_id) == []  # PSIDs are page-scoped
    assert control.call_statuses(france.page_id) == {200: 2, 400: 1}  # Meta's 613
    assert control.call_statuses(spain.page_id) == {200: 3}
    assert control.send_rate() == es  # no ?page: the first Page, as before


def test_an_unknown_page_is_refused_by_the_control_api(two_pages) -> None:  # type: ignore[no-untyped-def]
    control, _, _ = two_pages
    answer = requests.get(f"{control.base}/_standin/send_rate", params={"page": "999"}, timeout=5)
    assert answer.status_code == 400 and "no Page 999" in answer.json()["error"]
