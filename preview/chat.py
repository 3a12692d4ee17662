"""`flask chat`: a conversation with the bot in a terminal, through the real pipeline.

It starts its own local mode (stand-in Facebook, our app on a loopback port, in-process
jobs, a throwaway SQLite file), whatever settings the `flask` command loaded, so it never
touches production. A customer's line goes out as a signed webhook; the bot's answers are
read back from the stand-in once the customer's mailbox is empty. Reads lines until EOF.
"""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
import time
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.flows.loader import FlowsError
from bot.replies import GET_STARTED_PAYLOAD, flow_payload
from config.settings import Settings
from core import runtime
from messenger.profile import meta_locales
from messenger.standin.errors import StandinError
from preview.chat_view import Choice, render
from preview.local import AppFactory, LocalModeRefused, LocalService, start_local

SETTLE_SECONDS = 15.0
HELP = ("Type as the customer; a number picks a choice. Commands: /agent (ask for a person), "
        "/reply TEXT (answer as the Page Inbox agent), /done (the agent marks it done), "
        "/restart, /menu (the persistent menu), /quit")


class ChatSession:
    def __init__(self, service: LocalService, locale: str, name: str) -> None:
        self.service, self.standin, self.locale = service, service.standin, locale
        self.psid = "9" + "".join(str(secrets.randbelow(10)) for _ in range(15))
        self.standin.add_user(self.psid, first_name=name, locale=_meta(locale))
        self.seen = 0
        self.choices: list[Choice] = []
        self.owner: str | None = None

    def run(self, stream: IO[str], interactive: bool) -> None:
        click.echo(f"Chatting as a customer in {self.locale} (local, no Facebook). {HELP}")
        while True:
            if interactive:
                click.echo("you> ", nl=False)
            raw = stream.readline()
            if not raw:
                break
            line = raw.strip()
            if not line:
                continue
            if not interactive:
                click.echo(f"you> {line}")
            if line in ("/quit", "/exit"):
                break
            self.handle(line)
            self.show_replies()

    def handle(self, line: str) -> None:
        try:
            if line.startswith("/"):
                name, _, rest = line[1:].partition(" ")
                self.command(name, rest)
            elif line.isdigit() and 1 <= int(line) <= len(self.choices):
                self.choose(self.choices[int(line) - 1])
            else:
                self.standin.customer_says(self.psid, line)
        except StandinError as exc:
            click.echo(f"  ({exc})")

    def command(self, name: str, rest: str) -> None:
        if name == "agent":
            self.action_postback("live_agent", "Talk to a human")
        elif name == "restart":
            self.action_postback("restart", "Restart")
        elif name == "reply" and rest.strip():
            self.standin.agent_says(self.psid, rest.strip())
            click.echo(f"agent> {rest.strip()}")
        elif name == "done":
            self.standin.agent_done(self.psid)
        elif name == "menu":
            self.show_menu()
        else:
            click.echo(f"  {HELP}")

    def choose(self, choice: Choice) -> None:
        if choice.kind == "quick_reply":
            self.standin.customer_says(self.psid, choice.title, quick_reply=choice.payload)
        else:
            self.standin.customer_says(self.psid, postback=choice.payload,
                                       postback_title=choice.title)

    def action_postback(self, action: str, fallback_title: str) -> None:
        """Tap the postback of the flow doing `action`, as the persistent menu would."""
        flows = self.service.runtime.flows.current
        flow = next((f for f in flows.flows.values() if f.action == action), None)
        if flow is not None:
            title = flows.title(flow.id, self.locale)
            self.standin.customer_says(self.psid, postback=flow_payload(flow.id), postback_title=title)
        elif action == "restart":
            self.standin.customer_says(self.psid, postback=GET_STARTED_PAYLOAD,
                                       postback_title="Get Started")
        else:
            click.echo(f"  ({flows.source} has no flow with action {action}: {fallback_title} "
                       "is not offered)")

    def show_menu(self) -> None:
        for problem in self.service.profile.refresh():  # follows edits of the flows file
            click.echo(f"  ({problem})")
        menus = self.standin.messenger_profile.get("persistent_menu") or []
        menu = next((m for m in menus if m["locale"] == _meta(self.locale)), None) or next(
            (m for m in menus if m["locale"] == "default"), None)
        items = [i for i in (menu or {}).get("call_to_actions", []) if i["type"] == "postback"]
        if not items:
            click.echo("  (no persistent menu)")
            return
        self.choices = [Choice(i["title"], i["payload"], "postback") for i in items]
        click.echo("menu " + "  ".join(f"[{n}] {c.title}" for n, c in enumerate(self.choices, 1)))

    def show_replies(self) -> None:
        self.settle()
        sent = self.standin.sent(self.psid)
        messages = [body["message"] for body in sent[self.seen:] if "message" in body]
        self.seen = len(sent)
        if messages:
            lines, self.choices = render(messages)
            for line in lines:
                click.echo(line)
        self.show_owner()

    def show_owner(self) -> None:
        owner, inbox = self.standin.owner(self.psid), self.standin.inbox_app_id
        if owner == inbox and self.owner != inbox:
            click.echo("-- a person from the Page Inbox has the conversation now: "
                       "/reply TEXT answers as them, /done gives it back to the bot")
        elif self.owner == inbox and owner != inbox:
            click.echo("-- the bot has the conversation again")
        self.owner = owner

    def settle(self) -> None:
        """Wait until every webhook was delivered and this customer's mailbox is empty."""
        customer = f"{self.standin.page_id}:{self.psid}"
        mailbox = self.service.runtime.mailbox
        deadline, quiet = time.monotonic() + SETTLE_SECONDS, 0
        while quiet < 2:
            if time.monotonic() > deadline:
                click.echo("  (the bot is still busy; its answer will show after your next line)")
                return
            self.standin.drain_deliveries(timeout=SETTLE_SECONDS)
            quiet = quiet + 1 if mailbox.peek(customer) is None else 0
            time.sleep(0.01)


def _meta(locale: str) -> str:
    return (meta_locales(locale) or (locale,))[0]


def make_chat_command(factory: AppFactory) -> click.Command:
    """The `chat` command; `factory` builds its own local app (app.py's create_app)."""

    @click.command("chat", help=f"Talk to the bot in this terminal, without Facebook. {HELP}")
    @click.option("--locale", help="The customer's language, one of the flows' locales.")
    @click.option("--name", default="Ana", show_default=True, help="The customer's first name.")
    @with_appcontext
    def chat(locale: str | None, name: str) -> None:
        base = current_app.config["SETTINGS"]
        outer = current_app.extensions["runtime"]
        with tempfile.TemporaryDirectory(prefix="desk-chat-") as tmp:
            settings = base.with_(messenger_page_access_token=None, redis_url=None,
                                  database_url=f"sqlite:///{tmp}/chat.db")
            service = _start(settings, factory)
            logging.getLogger().setLevel(logging.WARNING)  # the terminal is the conversation
            try:
                flows = service.runtime.flows.current
                if locale is not None and locale not in flows.locales:
                    raise click.BadParameter(f"{locale!r}: the flows speak {', '.join(flows.locales)}",
                                             param_hint="--locale")
                session = ChatSession(service, locale or flows.default_locale, name)
                session.run(sys.stdin, interactive=sys.stdin.isatty())
            finally:
                service.stop()
                runtime.install(outer)

    return chat


def _start(settings: Settings, factory: AppFactory) -> LocalService:
    try:
        return start_local(settings, factory, port=0)
    except FlowsError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("the flows file has problems; fix them and try again") from None
    except LocalModeRefused as exc:
        raise click.ClickException(str(exc)) from None
