"""CI's dependency audit: known vulnerabilities in what `requirements.in` installs.

Fails (exit 1) when a pinned dependency, or one it pulls in, has a known
vulnerability that a released version fixes. One without a fix is printed.

The packages audited are requirements.in (the runtime: what production installs from
the lock file requirements.txt) and everything they require, at the
versions installed in .venv (read from the installed metadata, so no second
install). Vulnerability data, best first:
  1. pip-audit with PyPI's per-release JSON API, then with OSV (api.osv.dev);
  2. when neither answers (a build machine that reaches only the package
     index), PyPI's project JSON API, which publishes the advisories of a
     project's LATEST release: a pin that is the latest release is checked
     there; an older pin is reported as not checked.
It never passes silently: it prints which source answered and how many
packages were really checked, and an AUDIT INCOMPLETE banner for the rest.
Packages left unchecked only for want of network do not fail the build (that
says nothing about the code) unless AUDIT_STRICT=1.

    .venv/bin/python .ci/audit.py [requirements.in]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

TIMEOUT_SECONDS = 300
PROJECT_JSON = "https://pypi.org/pypi/{name}/json"


@dataclass
class Report:
    source: str
    checked: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # "name version" -> why
    fixable: list[str] = field(default_factory=list)  # "name version: ID (fixed in ...)"
    unfixable: list[str] = field(default_factory=list)
    error: str | None = None  # the source could not be used at all

    @property
    def complete(self) -> bool:
        return self.error is None and not self.skipped and bool(self.checked)

    def add_vuln(self, package: str, vuln_id: str, fixes: list[str]) -> None:
        line = f"{package}: {vuln_id}" + (f" (fixed in {', '.join(fixes)})" if fixes else "")
        (self.fixable if fixes else self.unfixable).append(line)


def closure(requirements: Path) -> dict[str, str]:
    """name -> installed version, for the requirements and all they require."""
    found: dict[str, str] = {}
    todo = [Requirement(line.split("#")[0].strip()) for line in requirements.read_text().splitlines()
            if line.split("#")[0].strip()]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        extras = set(req.extras)
        if name in found and not extras:
            continue
        dist = metadata.distribution(req.name)  # PackageNotFoundError: install first
        found[name] = dist.version
        for spec in dist.requires or []:
            sub = Requirement(spec)
            wanted = extras or {""}
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in wanted):
                todo.append(sub)
    return found


def read_pip_audit(source: str, data: dict) -> Report:
    report = Report(source)
    for dep in data.get("dependencies", []):
        package = f"{dep.get('name')} {dep.get('version', '')}".strip()
        if "skip_reason" in dep:
            report.skipped[package] = str(dep["skip_reason"])
            continue
        report.checked.append(package)
        for vuln in dep.get("vulns", []):
            report.add_vuln(package, str(vuln.get("id")), list(vuln.get("fix_versions") or []))
    return report


def run_pip_audit(service: str, pins: dict[str, str]) -> Report:
    with tempfile.TemporaryDirectory() as tmp:
        reqs, out = Path(tmp) / "pins.txt", Path(tmp) / "audit.json"
        reqs.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
        command = [sys.executable, "-m", "pip_audit", "-r", str(reqs), "--no-deps", "--disable-pip",
                   "--vulnerability-service", service, "--format", "json", "--output", str(out),
                   "--progress-spinner", "off"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            return Report(f"pip-audit/{service}", error=f"no answer within {TIMEOUT_SECONDS} s")
        if out.exists() and out.stat().st_size:
            return read_pip_audit(f"pip-audit/{service}", json.loads(out.read_text()))
        last = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        return Report(f"pip-audit/{service}",
                      error=last[-1] if last else f"pip-audit exited {done.returncode}")


def read_project_page(report: Report, name: str, version: str, page: dict) -> None:
    """Advisories on a project's JSON page apply to its latest release only."""
    package, latest = f"{name} {version}", str(page.get("info", {}).get("version"))
    if latest != version:
        report.skipped[package] = f"not the latest release ({latest}): its advisories are not listed"
        return
    report.checked.append(package)
    for vuln in page.get("vulnerabilities") or []:
        if not vuln.get("withdrawn"):
            report.add_vuln(package, str(vuln.get("id")), list(vuln.get("fixed_in") or []))


def project_pages(pins: dict[str, str]) -> Report:
    report = Report("PyPI project pages (latest releases)")

    def fetch(name: str) -> tuple[str, dict | str]:
        try:
            with urllib.request.urlopen(PROJECT_JSON.format(name=name), timeout=30) as answer:
                return name, json.load(answer)
        except (OSError, ValueError) as exc:
            return name, f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(8) as pool:
        for name, page in pool.map(fetch, sorted(pins)):
            if isinstance(page, str):
                report.skipped[f"{name} {pins[name]}"] = page
            else:
                read_project_page(report, name, pins[name], page)
    if not report.checked and report.skipped:
        report.error = f"no project page answered, e.g. {next(iter(report.skipped.values()))}"
    return report


def decide(reports: list[Report], *, strict: bool) -> tuple[int, list[str]]:
    """The exit code and what to print, from every source tried."""
    best = max(reports, key=lambda r: (r.complete, len(r.checked)))
    lines = [f"dependency audit: {len(best.checked)} checked, {len(best.skipped)} not checked "
             f"(source: {best.source})"]
    fixable = sorted({line for r in reports for line in r.fixable})
    unfixable = sorted({line for r in reports for line in r.unfixable})
    lines += [f"  VULNERABLE, upgrade: {line}" for line in fixable]
    lines += [f"  known vulnerability, no fix released yet: {line}" for line in unfixable]
    if fixable:
        return 1, [*lines, "dependency audit FAILED: upgrade the packages above in requirements.txt"]
    if best.complete:
        return 0, [*lines, "dependency audit passed: no known vulnerability with a fix"]
    lines += ["", "#" * 78, "# AUDIT INCOMPLETE: some packages were NOT checked for vulnerabilities."]
    for report in reports:
        lines.append(f"#   {report.source}: {report.error or _summary(report)}")
    lines += [f"#   not checked: {', '.join(sorted(best.skipped))}",
              "# Run `make audit` where PyPI's JSON API or api.osv.dev is reachable.", "#" * 78]
    return (2 if strict else 0), lines


def _summary(report: Report) -> str:
    if not report.skipped:
        return f"{len(report.checked)} checked"
    example = next(iter(report.skipped.values()))
    return f"{len(report.checked)} checked, {len(report.skipped)} skipped, e.g. {example}"


def main() -> int:
    pins = closure(Path(sys.argv[1] if len(sys.argv) > 1 else "requirements.txt"))
    reports = [run_pip_audit("pypi", pins)]
    if not reports[-1].complete:
        reports.append(run_pip_audit("osv", pins))
    if not any(r.complete for r in reports):
        reports.append(project_pages(pins))
    code, lines = decide(reports, strict=os.environ.get("AUDIT_STRICT") == "1")
    print("\n".join(lines))  # noqa: T201 - a CI script talks to the log
    return code


if __name__ == "__main__":
    sys.exit(main())
