"""CI's dependency audit (.ci/audit.py): a vulnerability with a fix fails the
build; a database nobody could reach is reported loudly, never as a pass."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
assert _spec is not None and _spec.loader is not None
audit = importlib.util.module_from_spec(_spec)
sys.modules["ci_audit"] = audit
_spec.loader.exec_module(audit)


def pip_audit_json(*deps: dict) -> dict:
    return {"dependencies": list(deps), "fixes": []}


def test_a_vulnerability_with_a_fix_fails_the_build() -> None:
    report = audit.read_pip_audit("pip-audit/pypi", pip_audit_json(
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "requests", "version": "2.19.0",
         "vulns": [{"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"]}]}))
    code, lines = audit.decide([report], strict=False)
    assert code == 1
    assert "  VULNERABLE, upgrade: requests 2.19.0: PYSEC-2018-28 (fixed in 2.20.0)" in lines


def test_a_vulnerability_without_a_fix_is_printed_but_passes() -> None:
    report = audit.read_pip_audit("pip-audit/osv", pip_audit_json(
        {"name": "lupa", "version": "2.8", "vulns": [{"id": "GHSA-x", "fix_versions": []}]}))
    code, lines = audit.decide([report], strict=False)
    assert code == 0 and any("no fix released yet: lupa 2.8: GHSA-x" in line for line in lines)
    assert lines[-1] == "dependency audit passed: no known vulnerability with a fix"


def test_nothing_checked_is_never_reported_as_a_pass() -> None:
    skipped = audit.read_pip_audit("pip-audit/pypi", pip_audit_json(
        {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited"}))
    unreachable = audit.Report("pip-audit/osv", error="NameResolutionError: api.osv.dev")
    code, lines = audit.decide([skipped, unreachable], strict=False)
    text = "\n".join(lines)
    assert code == 0  # the network, not the code: CI stays green but says so
    assert "AUDIT INCOMPLETE" in text and "NameResolutionError" in text and "flask" in text
    assert "passed" not in text
    assert audit.decide([skipped, unreachable], strict=True)[0] == 2


def test_the_project_page_vouches_only_for_the_latest_release() -> None:
    report = audit.Report("PyPI project pages (latest releases)")
    page = {"info": {"version": "2.34.2"}, "vulnerabilities": [
        {"id": "GHSA-old", "fixed_in": ["2.35.0"], "withdrawn": None},
        {"id": "GHSA-gone", "fixed_in": ["2.35.0"], "withdrawn": "2026-01-01"}]}
    audit.read_project_page(report, "requests", "2.34.2", page)
    audit.read_project_page(report, "pydantic", "2.14.3", {"info": {"version": "2.14.4"}})
    assert report.checked == ["requests 2.34.2"]
    assert report.fixable == ["requests 2.34.2: GHSA-old (fixed in 2.35.0)"]
    assert "not the latest release (2.14.4)" in report.skipped["pydantic 2.14.3"]
    assert audit.decide([report], strict=False)[0] == 1


def test_the_audited_set_is_the_requirements_and_what_they_pull_in(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# runtime\nFlask==3.1.3\npsycopg[binary]==3.3.9  # with the wheel\n")
    pins = audit.closure(requirements)
    assert {"flask", "werkzeug", "jinja2", "markupsafe", "click", "psycopg", "psycopg-binary"} <= set(pins)
    assert "pytest" not in pins and "setuptools" not in pins
