"""What `bench.e2e` checks each run against: every Page's reference customer (the run's
words typed one at a time), each customer's replies against their Page's reference, and
each Page's Send API calls as the stand-in received them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.load import StandinControl, bodies, post_all
from bench.pages_setup import BenchPage, PageSet
from bench.run_state import Database


def calibrate(control: StandinControl, db: Database, web_url: str, per_customer: int,
              keywords: list[str], pages: PageSet) -> dict[str, list[str]]:
    """Each Page's reference customer types the same words, each posted after the last was
    answered (the Pages' references side by side); their replies, by Page id."""
    done, count = db.handled(), len(pages.pages)
    references = {page.reference: page.id for page in pages.pages}
    steps = bodies(list(references), per_customer, tag="reference", keywords=keywords,
                   pages=references)
    for step in range(per_customer):  # one body per reference: never a customer's two at once
        post_all(web_url + "/webhook", steps[step * count:(step + 1) * count], connections=count)
        done += count
        db.wait_handled(done)
    return {page.id: control.sent_texts(page.reference, page.id) for page in pages.pages}


@dataclass
class PageChecks:
    in_order: int  # customers whose replies equal their Page's reference's
    rates: dict[str, dict[str, Any]]  # Page id -> the stand-in's send_rate
    refused: list[int]  # non-200 Send API answers, by Page
    differences: list[str]  # for the first few customers out of order: how

    @property
    def busiest(self) -> list[int]:
        return [rate["busiest_second"] for rate in self.rates.values()]


def check_pages(control: StandinControl, pages: PageSet, page_of: dict[str, BenchPage],
                customers: list[str], reference: dict[str, list[str]]) -> PageChecks:
    in_order, differences = 0, []
    for customer in customers:
        page = page_of[customer].id
        got, want = control.sent_texts(customer, page), reference[page]
        in_order += got == want
        if got != want and len(differences) < 5:
            differences.append(_difference(customer, page, got, want))
    rates = {page.id: control.send_rate(page.id) for page in pages.pages}
    refused = [sum(n for status, n in control.call_statuses(page.id).items() if status != 200)
               for page in pages.pages]
    return PageChecks(in_order, rates, refused, differences)


def _difference(customer: str, page: str, got: list[str], want: list[str]) -> str:
    at = next((i for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w),
              min(len(got), len(want)))
    return (f"customer {customer} of Page {page}: {len(got)} replies, the reference "
            f"{len(want)}; from reply {at}: got {got[at:at + 2]}, want {want[at:at + 2]}")
