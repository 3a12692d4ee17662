"""A customer's file in the worker's turn: its fetch is queued as soon as the turn
is committed, ahead of the bot's answer, and even while Facebook refuses the Page's
sends (a paused Page), since Messenger's URL may expire before the pause ends."""

from __future__ import annotations

import json

import pytest
from redis import Redis
from rq import Queue
from sqlmodel import Session, select

from attachments.models import Attachment
from core.jobs import ATTACHMENTS_QUEUE
from core.mailbox import Queued
from core.page_health import PagePaused, page_health
from messenger.events import parse_payload
from tests.support import payloads as p
from tests.unit.test_tickets_chat import (  # noqa: F401  (fixtures)
    Desk,
    clock,
    desk,
    settings,
    standin,
)

PHOTO = "https://scontent.xx.fbcdn.net/v/t1/photo.jpg?oh=1"


def sends_file(desk: Desk, psid: str, *files: dict) -> None:  # noqa: F811
    desk.fake.customer_says(psid, attachments=list(files))
    _, events = parse_payload(desk.fake.webhooks[-1])
    body = json.loads(events[0].body)
    desk.handle(Queued(f"{p.PAGE_ID}:{psid}", events[0].key, body["channel"], body["kind"], body["event"]))


def test_a_file_is_recorded_and_its_fetch_queued_and_a_like_is_not_a_file(
        desk: Desk, redis: Redis) -> None:  # noqa: F811
    desk.fake.add_user("21")
    desk.says("21", "hi")
    sends_file(desk, "21", {"type": "image", "payload": {"url": PHOTO}},
               {"type": "image", "payload": {"url": PHOTO + "&like", "sticker_id": 369239263222822}})
    with Session(desk.rt.engine) as session:
        [row] = session.exec(select(Attachment)).all()
    assert (row.kind, row.name, row.status, row.source_url) == ("image", "photo.jpg", "pending", PHOTO)
    assert row.message_mid and row.message_mid.startswith("m_")
    [job] = Queue(ATTACHMENTS_QUEUE, connection=redis).get_jobs()
    assert job.args == (row.id,) and job.retries_left == 8


def test_a_paused_page_does_not_hold_back_a_customers_file(desk: Desk, redis: Redis) -> None:  # noqa: F811
    desk.fake.add_user("22")
    desk.says("22", "hi")
    page_health(desk.rt.redis, first_pause_ms=desk.rt.settings.page_pause_ms).pause(
        p.PAGE_ID, "token_invalid", "the token was revoked")
    with pytest.raises(PagePaused):  # the bot's answer waits for the Page
        sends_file(desk, "22", {"type": "file", "payload": {"url": PHOTO}})
    assert Queue(ATTACHMENTS_QUEUE, connection=redis).count == 1  # the fetch does not
