"""The seams where features (handover, tickets, ratings, files...) plug into the conversation.

`bot` defines the kinds of handler and keeps what each feature registers; it never
imports a feature. Each feature package registers its handlers in one function
(`<feature>.plugin.register`), called once per process by `features.register_all`
from the app factory and the worker. Registering the same handler twice is a no-op;
a second, different handler under a name already taken is a programming error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, get_args

from sqlalchemy import BindParameter, ColumnElement
from sqlalchemy.orm import Session

from bot.flows.schema import Flow
from bot.models import Customer
from bot.turn import Turn
from core.mailbox import Queued

if TYPE_CHECKING:
    from bot.decisions import Call
    from bot.outbox import CallOutcome
    from core.runtime import Runtime

BatchGuard = Callable[[Customer, Queued], bool]  # False: decide this event in a run of its own
TurnHook = Callable[[Turn], bool]  # True: the event is handled, stop there
ActionHandler = Callable[[Turn, Flow | None], None]
PayloadHandler = Callable[[Turn, str], bool]  # keyed by the payload's prefix
CallFollowUp = Callable[[Turn, "CallOutcome"], bool]  # False: cancel the turn's pending calls
Executor = Callable[["Runtime", Customer, "Call"], str | None]  # an outbox call's result
# A yes/no question about the customer a feature asks once per run of events, answered
# in the query that loads the customer (bot.decisions): given the customer's id column
# and the run's event keys (an expanding bind parameter), an EXISTS expression.
RunProbe = Callable[[ColumnElement[Any], BindParameter[Any]], ColumnElement[bool]]
RUN_PROBES = "bot.run_probes"  # session.info key: probe name -> the run's answer

# When a turn hook runs, whatever the order features register in:
# observe    sees every event and never handles it (files are kept whoever has the thread);
# own_event  events of a kind only one feature produces (e.g. a ticket resolved);
# thread     who owns the thread (a person chatting: the bot stays silent);
# dialogue   a conversation a feature leads (the ticket wizard);
# last       only when nothing else took the message (a typed rating).
TurnPhase = Literal["observe", "own_event", "thread", "dialogue", "last"]
TURN_PHASES: tuple[str, ...] = get_args(TurnPhase)

_hooks: dict[str, list[TurnHook]] = {phase: [] for phase in TURN_PHASES}
_guards: list[BatchGuard] = []
_actions: dict[str, ActionHandler] = {}
_payloads: dict[str, PayloadHandler] = {}
_follow_ups: dict[str, CallFollowUp] = {}
_executors: dict[str, tuple[Executor, bool]] = {}
_probes: dict[str, RunProbe] = {}


def register_turn_hook(hook: TurnHook, *, phase: TurnPhase) -> None:
    if phase not in _hooks:
        raise ValueError(f"unknown turn phase {phase!r}; one of {', '.join(TURN_PHASES)}")
    if hook not in _hooks[phase]:
        _hooks[phase].append(hook)


def register_batch_guard(guard: BatchGuard) -> None:
    if guard not in _guards:
        _guards.append(guard)


def register_action(name: str, handler: ActionHandler) -> None:
    """A fixed action of the flows file (`action: <name>`)."""
    _claim(_actions, name, handler, "action")


def register_payload(prefix: str, handler: PayloadHandler) -> None:
    """Postback and quick-reply payloads `<prefix>:...` that are not flows."""
    _claim(_payloads, prefix, handler, "payload prefix")


def register_follow_up(name: str, handler: CallFollowUp) -> None:
    """What a Graph call's result means, by the name the call gives (`then=`; bot.outbox)."""
    _claim(_follow_ups, name, handler, "call follow-up")


def register_executor(kind: str, executor: Executor, *, graph_call: bool = True) -> None:
    """How an outbox call of `kind` is made. `graph_call=False`: no Graph API call, so a
    paused Page (core.page_health) does not hold it back."""
    _claim(_executors, kind, (executor, graph_call), "outbox call")


def register_run_probe(name: str, probe: RunProbe) -> None:
    """Ask `probe` with the customer's row of each run; its turns read the answer with
    `run_probe(session, name)`, saving a query of their own per run."""
    _claim(_probes, name, probe, "run probe")


def _claim(table: dict[str, object], key: str, value: object, what: str) -> None:
    if key in table and table[key] != value:
        raise ValueError(f"{what} {key!r} is registered twice, by different handlers")
    table[key] = value


def turn_hooks() -> list[TurnHook]:
    """Run first, in phase order, for every event."""
    return [hook for phase in TURN_PHASES for hook in _hooks[phase]]


def batch_guards() -> list[BatchGuard]:
    """Asked before an event joins a run decided in one transaction (`bot.decisions`)."""
    return list(_guards)


def action_handlers() -> dict[str, ActionHandler]:
    """The YAML's fixed actions (`action:` in a flow); `restart` is the bot's own."""
    from bot.conversation import restart

    return {"restart": restart, **_actions}


def payload_handlers() -> dict[str, PayloadHandler]:
    return dict(_payloads)


def call_follow_ups() -> dict[str, CallFollowUp]:
    return dict(_follow_ups)


def executor(kind: str) -> tuple[Executor, bool] | None:
    """The registered executor of an outbox call and whether it calls the Graph API."""
    return _executors.get(kind)


def run_probes() -> dict[str, RunProbe]:
    return dict(_probes)


def run_probe(session: Session, name: str) -> bool | None:
    """The answer of probe `name` for the run decided in `session`; None if it was not asked
    (a turn built outside `bot.decisions`, or a probe registered after the run started)."""
    answers: dict[str, bool] = session.info.get(RUN_PROBES, {})
    return answers.get(name)
