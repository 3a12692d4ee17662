"""The end-to-end fixtures (`standin`, `start_service`) serve the fault tests too."""

from tests.e2e.conftest import standin, start_service  # noqa: F401 - fixtures
