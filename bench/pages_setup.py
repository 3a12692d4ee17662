"""Several Pages for `bench.e2e --pages P` (issue 18): the pages file the service reads
(`PAGES_PATH`), each Page's token in an environment variable of its own, the stand-in's
other Pages (`--other-page ID=TOKEN`), and which Page each customer writes to.

One Page is today's setup exactly: no pages file, the token in
`MESSENGER_PAGE_ACCESS_TOKEN`, the stand-in's one Page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.signed import ACCESS_TOKEN, PAGE_ID, psid

REFERENCE_BASE = 999_999  # Page n's reference customer is psid(REFERENCE_BASE - n)


@dataclass(frozen=True)
class BenchPage:
    id: str
    token: str
    token_env: str
    reference: str  # the customer who types the run's words one at a time, on this Page


@dataclass(frozen=True)
class PageSet:
    """The run's Pages; customers are spread over them round robin."""

    pages: tuple[BenchPage, ...]

    @classmethod
    def of(cls, count: int) -> PageSet:
        if count < 1:
            raise ValueError("a run needs at least one Page")
        return cls(tuple(
            BenchPage(id=str(int(PAGE_ID) + n),
                      token=ACCESS_TOKEN if n == 0 else f"EAAbench-page-token-{n + 1:04d}",
                      token_env=f"BENCH_PAGE_{n + 1}_TOKEN",
                      reference=psid(REFERENCE_BASE - n))
            for n in range(count)))

    @property
    def single(self) -> bool:
        return len(self.pages) == 1

    def page_of(self, customers: list[str]) -> dict[str, BenchPage]:
        """Each customer's Page: customer j writes to Page j mod P (references to their own)."""
        spread = {c: self.pages[j % len(self.pages)] for j, c in enumerate(customers)}
        return spread | {page.reference: page for page in self.pages}

    def service_environ(self, directory: Path) -> dict[str, str]:
        """What the web and worker processes need to serve these Pages: for several, a
        pages file in `directory` and every Page's token in its variable."""
        if self.single:
            return {"MESSENGER_PAGE_ACCESS_TOKEN": self.pages[0].token}
        path = directory / "pages.yaml"
        path.write_text(self.pages_yaml())
        return {"PAGES_PATH": str(path), **{page.token_env: page.token for page in self.pages}}

    def pages_yaml(self) -> str:
        lines = ["# written by bench.e2e --pages: the Pages of one run", "pages:"]
        for n, page in enumerate(self.pages, start=1):
            lines += [f'  - id: "{page.id}"', f"    name: Bench Page {n}",
                      f"    token_env: {page.token_env}"]
        return "\n".join(lines) + "\n"

    def standin_argv(self) -> list[str]:
        """The stand-in's command-line arguments for these Pages (the first is its own)."""
        argv = ["--page-id", self.pages[0].id, "--access-token", self.pages[0].token]
        for page in self.pages[1:]:
            argv += ["--other-page", f"{page.id}={page.token}"]
        return argv
