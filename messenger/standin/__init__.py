"""A local stand-in for Facebook's Graph API, served over real HTTP on loopback.

It behaves like Facebook for one Page (or several behind one Graph API, each
reached with its own token): it validates Send API bodies like the
real Send API, enforces thread ownership (Conversation Routing), the messaging
window and rate limits, and posts to our webhook the events Facebook would,
signed as Meta signs them. Customers and Page Inbox agents are driven from
Python (`Standin.customer_says`, `agent_says`, ...) or over `/_standin/` JSON
endpoints. End-to-end tests, benchmarks and the "try it without Facebook" mode
use it; production traffic never reaches it.
"""

from messenger.standin.http import create_standin_app
from messenger.standin.serve import serve_standin
from messenger.standin.world import Standin

__all__ = ["Standin", "create_standin_app", "serve_standin"]
