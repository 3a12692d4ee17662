"""What `bench.e2e` prints: one row per run, each process's share, the timelines and,
with several Pages, how many times one Page's events/s the run made."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
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
    cpu_ms_per_event: float  # the service's processes (web and workers)
    peak_rss_mb: float
    peak_pss_mb: float
    customers_in_order: str
    refused_sends: int
    max_sends_per_s: int  # the service's busiest second, all Pages together
    pages: int = 1
    busiest_per_page: list[int] = field(default_factory=list)  # as the stand-in received them
    refused_per_page: list[int] = field(default_factory=list)
    harness_cpu_ms_per_event: float = 0.0  # the stand-in and the load generator together
    standin_cpu_ms_per_event: float = 0.0
    load_cpu_ms_per_event: float = 0.0  # this process: posting, polling, memory sampling


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


HEADER = (f"{'design':7s} {'K':>2s} {'P':>2s} {'lat':>5s} {'send cap':>9s} {'events':>6s} "
          f"{'s':>7s} {'events/s':>8s} {'calls/s':>7s} {'ack p50':>8s} {'ack p99':>8s} "
          f"{'CPU ms/ev':>9s} {'harness':>7s} {'RSS MB':>6s} {'PSS MB':>6s} {'in order':>9s} "
          f"{'refused':>7s} {'max/s':>6s}  busiest second per Page")


def print_row(o: Outcome) -> None:
    busiest = "/".join(str(n) for n in o.busiest_per_page)
    print(f"{o.design:7s} {o.workers:2d} {o.pages:2d} {o.latency_ms:3d}ms {o.send_rate:>9s} "
          f"{o.events:6d} {o.seconds:7.1f} {o.events_per_s:8.1f} {o.calls_per_s:7.1f} "
          f"{o.ack_p50_ms:8.1f} {o.ack_p99_ms:8.1f} {o.cpu_ms_per_event:9.3f} "
          f"{o.harness_cpu_ms_per_event:7.3f} {o.peak_rss_mb:6.0f} {o.peak_pss_mb:6.0f} "
          f"{o.customers_in_order:>9s} {o.refused_sends:7d} {o.max_sends_per_s:6d}  {busiest}",
          flush=True)


def print_harness(o: Outcome) -> None:
    print(f"  harness CPU per event: stand-in {o.standin_cpu_ms_per_event:.3f} ms, load generator "
          f"{o.load_cpu_ms_per_event:.3f} ms (the service: {o.cpu_ms_per_event:.3f} ms); refused "
          f"by Page: {'/'.join(str(n) for n in o.refused_per_page)}", flush=True)


def print_table(outcomes: list[Outcome]) -> None:
    print("\n" + HEADER)
    for outcome in outcomes:
        print_row(outcome)
    print("(CPU ms/ev: the service's processes; harness: the Graph stand-in and the load "
          "generator; busiest second per Page: Send API calls the stand-in received, refused "
          "ones too)")
    print_page_ratios(outcomes)
    print(f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def print_page_ratios(outcomes: list[Outcome]) -> None:
    """Each several-Page run's events/s against the one-Page run of the same K and latency."""
    one = {(o.workers, o.latency_ms, o.send_rate): o for o in outcomes
           if o.design == "desk" and o.pages == 1}
    for o in outcomes:
        base = one.get((o.workers, o.latency_ms, o.send_rate))
        if o.design == "desk" and o.pages > 1 and base is not None and base.events_per_s:
            print(f"K={o.workers} {o.latency_ms} ms: {o.pages} Pages {o.events_per_s:.1f} "
                  f"events/s = {o.events_per_s / base.events_per_s:.2f} x one Page's "
                  f"{base.events_per_s:.1f}")


def print_timeline(times: list[datetime], since: float) -> None:
    """Answered Send API calls in each second since the first POST: shows the ramp and tail."""
    counts = Counter(int(t.timestamp() - since) for t in times if t.timestamp() >= since)
    last = max(counts, default=-1)
    print("  calls answered per second:", " ".join(str(counts[s]) for s in range(last + 1)),
          flush=True)


def print_page_timeline(page_id: str, per_second: dict[str, int], since: float) -> None:
    """One Page's Send API calls per whole second as the stand-in received them."""
    seconds = {int(s): n for s, n in per_second.items() if int(s) >= int(since)}
    span = range(min(seconds, default=0), max(seconds, default=-1) + 1)
    print(f"  Page {page_id} calls received per second:",
          " ".join(str(seconds.get(s, 0)) for s in span), flush=True)
