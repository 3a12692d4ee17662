"""Live-agent handover's one registration with the conversation (`bot.extensions`)."""

from __future__ import annotations

from bot import extensions


def register() -> None:
    from handoff import actions, followups, hooks

    extensions.register_turn_hook(hooks.handoff_hook, phase="thread")
    extensions.register_action("live_agent", actions.live_agent)
    extensions.register_action("resume_bot", actions.resume_bot)
    extensions.register_payload("handoff", actions.on_payload)
    for name, follow_up in followups.FOLLOW_UPS.items():
        extensions.register_follow_up(name, follow_up)
