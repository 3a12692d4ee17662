"""The local preview lets a person send a file as the customer: it goes through the
stand-in's CDN and a signed webhook, and the worker fetches and keeps it."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import Session, select

from attachments.models import Attachment
from attachments.store import blob_store
from preview.local import LocalService
from tests.browser.test_preview import (  # noqa: F401  (fixtures)
    browser,
    local,
    no_script_errors,
    open_preview,
    tap,
    wait,
)
from tests.support.browser import needs_chromium
from tests.support.files import png

pytestmark = needs_chromium


def test_a_person_attaches_a_file_in_the_preview_and_the_desk_keeps_it(
        browser: WebDriver, local: LocalService, tmp_path: Path) -> None:  # noqa: F811
    photo = png(extra=2000)
    (tmp_path / "broken part.png").write_bytes(photo)
    open_preview(browser, local)
    tap(browser, ".get-started")
    wait(browser, ".bubble.page", "This is the support desk")
    browser.find_element(By.ID, "attach").send_keys(str(tmp_path / "broken part.png"))
    wait(browser, ".bubble.customer", "broken part.png")

    def kept(_: WebDriver) -> bytes | None:
        with Session(local.runtime.engine) as session:
            row = session.exec(select(Attachment)).first()
            if row is None or row.status != "stored":
                return None
            assert (row.name, row.content_type, row.kind) == ("broken part.png", "image/png", "image")
            return blob_store().get(session, row.id)  # type: ignore[arg-type]

    assert WebDriverWait(browser, 15).until(kept) == photo
