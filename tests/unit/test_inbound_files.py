"""Files on an agent's emailed reply: found in order, named safely, within the same
kind of bounds as the rest of the inbound mail parser."""

from __future__ import annotations

import time
from email.message import EmailMessage

from tests.support.files import pdf, png
from tickets.inbound_files import MAX_FILES, files_of


def mail_with(*files: tuple[str, bytes, str]) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "eva@example.com", "support@example.com", "Re: x"
    mail.set_content("Here you are.")
    for name, data, mime in files:
        maintype, subtype = mime.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail


def test_attached_files_are_found_in_order_with_their_bytes() -> None:
    invoice, photo = pdf(2000), png()
    found = files_of(mail_with(("factura marzo.pdf", invoice, "application/pdf"),
                               ("foto.png", photo, "image/png")).as_bytes())
    assert [(f.name, f.data) for f in found] == [("factura marzo.pdf", invoice), ("foto.png", photo)]


def test_a_forwarded_mails_own_files_are_not_the_agents() -> None:
    inner = mail_with(("old.pdf", pdf(100), "application/pdf"))
    outer = mail_with(("new.png", png(), "image/png"))
    outer.add_attachment(inner)  # message/rfc822
    assert [f.name for f in files_of(outer.as_bytes())] == ["new.png"]


def test_at_most_ten_files_and_a_mail_without_any_is_not_parsed_twice() -> None:
    many = mail_with(*[(f"{n}.png", png(), "image/png") for n in range(MAX_FILES + 5)])
    assert len(files_of(many.as_bytes())) == MAX_FILES
    assert files_of(mail_with().as_bytes()) == []


def test_ten_mebibytes_of_short_lines_behind_a_file_header_cost_little() -> None:
    raw = (b"From: a@b.c\r\nSubject: x\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n"
           + b"a\n" * (5 * 1024 * 1024))
    started = time.perf_counter()
    assert files_of(raw) == []  # refused by its line count before the parser sees it
    assert time.perf_counter() - started < 0.5
