"""What `bench.e2e` prints: one row per run, and each process's share."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bench.procs import cpu_times, pss_bytes, rss_bytes


@dataclass
class Outcome:
    design: str
    workers: int
    latency_ms: int
    send_rate: str
    events: int
    seconds: float
    events_per_s: float
    calls_per_s: float
    ack_p50_ms: float
    ack_p99_ms: float
    cpu_ms_per_event: float
    peak_rss_mb: float
    peak_pss_mb: float
    customers_in_order: str
    refused_sends: int
    max_sends_per_s: int


def print_processes(pids: list[int], before: dict[int, tuple[float, float]]) -> None:
    """Each process's CPU during the run (and the kernel's part), and its RSS and PSS now."""
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        user, system = (now - then for now, then in
                        zip(cpu_times(pid), before.get(pid, (0.0, 0.0)), strict=True))
        print(f"  pid {pid:7d} CPU {user + system:6.2f} s (sys {system:5.2f})  "
              f"RSS {rss_bytes([pid]) / 2**20:5.0f} MB  PSS {pss_bytes([pid]) / 2**20:5.0f} MB  "
              f"{command[:80]}", flush=True)


HEADER = (f"{'design':7s} {'K':>2s} {'lat':>5s} {'send cap':>9s} {'events':>6s} {'s':>7s} "
          f"{'events/s':>8s} {'calls/s':>7s} {'ack p50':>8s} {'ack p99':>8s} {'CPU ms/ev':>9s} "
          f"{'RSS MB':>6s} {'PSS MB':>6s} {'in order':>9s} {'refused':>7s} {'max/s':>6s}")


def print_row(o: Outcome) -> None:
    print(f"{o.design:7s} {o.workers:2d} {o.latency_ms:3d}ms {o.send_rate:>9s} {o.events:6d} "
          f"{o.seconds:7.1f} {o.events_per_s:8.1f} {o.calls_per_s:7.1f} {o.ack_p50_ms:8.1f} "
          f"{o.ack_p99_ms:8.1f} "
          f"{o.cpu_ms_per_event:9.3f} {o.peak_rss_mb:6.0f} {o.peak_pss_mb:6.0f} "
          f"{o.customers_in_order:>9s} {o.refused_sends:7d} {o.max_sends_per_s:6d}", flush=True)


def print_table(outcomes: list[Outcome]) -> None:
    print("\n" + HEADER)
    for outcome in outcomes:
        print_row(outcome)
    print(f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
