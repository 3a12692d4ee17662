"""Keyword flows: the admin's YAML file (config/flows.yaml) as typed, validated records.

`load_flows` reads and checks the file, reporting every problem with file and
line (`FlowsError`); `FlowsStore` serves the last good version and reloads it
when the file changes; `flows check` is the admin's command to validate it.
The rest of the bot reads `Flows` (menu, flows, texts per locale, keyword match).
"""

from bot.flows.loader import FlowsError, Problem, load_flows
from bot.flows.schema import ACTIONS, Button, Flow, Flows, Menu, Step
from bot.flows.store import FlowsStore
from bot.flows.text import normalize

__all__ = [
    "ACTIONS",
    "Button",
    "Flow",
    "Flows",
    "FlowsError",
    "FlowsStore",
    "Menu",
    "Problem",
    "Step",
    "load_flows",
    "normalize",
]
