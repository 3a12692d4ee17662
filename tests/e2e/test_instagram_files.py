"""Agent files to an Instagram customer, end to end: an emailed reply's PDF is uploaded
with `platform=instagram` (the stand-in checks Instagram's file types) and sent through
the Page's token; a file Instagram does not take (a ZIP, fine on Messenger) is never
uploaded: the customer gets a link to the ticket screen instead."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from messenger.standin import Standin, serve_standin
from tests.e2e.conftest import StartService
from tests.e2e.test_attachments_out import reply_with_files
from tests.e2e.test_tickets_journey import (  # noqa: F401  (fixtures)
    ADMIN,
    INBOUND,
    Clock,
    Desk,
    Mailbox,
    clock,
    mailbox,
    smtp_port,
    text,
)
from tests.support import payloads as p
from tests.support.files import pdf
from tests.support.servers import wait_until

pytestmark = pytest.mark.e2e
IGSID = "5550002"
PAGES = """\
pages:
  - id: "1001"
    name: Shop Spain
    token_env: ES_TOKEN
    instagram_id: "1784001"
"""


@pytest.fixture
def standin(clock: Clock) -> Iterator[tuple[Standin, str]]:  # noqa: F811
    fake = Standin(page_id="1001", app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token="token-es", clock=clock)
    fake.link_instagram("1784001")
    server, url = serve_standin(fake)
    yield fake, url
    fake.close()
    server.shutdown()


@pytest.fixture
def desk(start_service: StartService, standin: tuple[Standin, str], clock: Clock,  # noqa: F811
         smtp_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Desk:  # noqa: F811
    (tmp_path / "pages.yaml").write_text(PAGES)
    monkeypatch.setenv("ES_TOKEN", "token-es")
    fake, _ = standin
    start_service(smtp_url=f"smtp://127.0.0.1:{smtp_port}", inbound_email_token=INBOUND,
                  admin_api_token=ADMIN, support_email_from="Support Desk <support@example.com>",
                  pages_path=str(tmp_path / "pages.yaml"), messenger_page_access_token=None)
    return Desk(fake, str(fake.webhook_url).removesuffix("/webhook"), clock)


def open_ticket(desk: Desk) -> int:
    desk.fake.add_instagram_user(IGSID, username="ana.silva")
    desk.says(IGSID, "Email Support", "flow:email_support")
    desk.says(IGSID, "Need my invoice")
    desk.says(IGSID, "Billing", "ticket:type:billing")
    done = desk.says(IGSID, "I was charged twice on 2 March.")
    found = re.search(r"#(\d+)", text(done))
    assert found, text(done)
    return int(found.group(1))


def test_an_agents_files_reach_an_instagram_customer_as_instagram_takes_them(
        desk: Desk, mailbox: Mailbox) -> None:  # noqa: F811
    number = open_ticket(desk)
    assert desk.ticket(number)["channel"] == "instagram"
    thread = desk.notification(number, "sent")["message_id"]
    before = len(desk.fake.sent(IGSID))
    invoice, archive = pdf(20_000), b"PK\x03\x04" + b"\x00" * 200
    answer = desk.email_in(reply_with_files(thread, "Here is your invoice.", [
        ("invoice.pdf", invoice, "application/pdf"), ("logs.zip", archive, "application/zip")]))
    assert answer.status_code == 200
    sent = desk.fake.wait_for_sent(IGSID, before + 3, timeout=30)[before:]
    assert "Here is your invoice." in text(sent[0])
    [uploaded] = desk.fake.media.uploads.values()  # the ZIP never went up
    assert (uploaded.data, uploaded.kind) == (invoice, "file")
    assert sent[1]["message"]["attachment"]["type"] == "file"
    assert "this chat cannot carry" in text(sent[2])
    expected = {"invoice.pdf": "sent", "logs.zip": "refused"}  # written just after the sends

    def states() -> dict[str, str]:
        return {f["name"]: f["messenger"] for f in desk.ticket(number)["attachments"]}

    wait_until(lambda: states() == expected, timeout=30)
    assert not [call for call in desk.fake.calls if call[2] >= 400]
