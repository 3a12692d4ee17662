"""End-to-end throughput (issue 6): E events from U customers, posted to the
`web` process as the Procfile starts it, with K worker processes (the
Procfile's `worker` line with `--num-workers K`) on the Graph API stand-in
with added latency; and, in the same run, the naive peer (`bench.peers.naive`).

Measures events/s until every event has its reply, that each customer got
exactly the replies of a reference customer who typed the same words one at a
time (order and exactly-once), the CPU of the service's processes per event,
and their peak RSS. Not run in CI; see docs/PERFORMANCE.md.

    python -m bench.e2e --workers 1 2 4 --latency 0 100 --plot docs/e2e_throughput.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.load import StandinControl, bodies, post_all, sequence
from bench.peers.naive import MENU
from bench.procs import (
    Processes,
    bench_environ,
    cpu_seconds,
    free_port,
    only_python,
    process_tree,
    redis_server,
    rss_bytes,
    wait_for_http,
)
from bench.run_state import Database, MemoryWatch, max_per_second
from bench.signed import ACCESS_TOKEN, APP_ID, APP_SECRET, PAGE_ID, psid

REFERENCE = psid(999_999)  # types the run's words one at a time


@dataclass
class Outcome:
    design: str
    workers: int
    latency_ms: int
    send_rate: str
    events: int
    seconds: float
    events_per_s: float
    ack_p50_ms: float
    ack_p99_ms: float
    cpu_ms_per_event: float
    peak_rss_mb: float
    peak_pss_mb: float
    customers_in_order: str
    refused_sends: int
    max_sends_per_s: int


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--latency", type=int, nargs="+", default=[0, 100], help="ms per Send API call")
    parser.add_argument("--peer-events", type=int, default=1000,
                        help="events for the naive peer at each latency (0: skip it)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent webhook POSTs")
    parser.add_argument("--burst", action="store_true",
                        help="only the throttle run: 0 ms, stand-in enforcing 300/s, K=4, with the "
                             "throttle at its default and lifted")
    parser.add_argument("--profile", type=Path, help="py-spy the workers of each desk run into DIR")
    parser.add_argument("--json", type=Path, help="append each outcome as a JSON line")
    parser.add_argument("--plot", type=Path, help="PNG of events/s against K")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    print(f"logs in {work}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
          flush=True)
    outcomes: list[Outcome] = []
    runs = burst_runs() if args.burst else desk_runs(args)
    for design, workers, latency, rate, limit in runs:
        outcome = run(work, args, design, workers, latency, rate, limit)
        outcomes.append(outcome)
        print_row(outcome)
        if args.json:
            with args.json.open("a") as out:
                out.write(json.dumps(asdict(outcome)) + "\n")
    print_table(outcomes)
    if args.plot:
        from bench.plot import plot

        plot(outcomes, args.plot)


def desk_runs(args: argparse.Namespace) -> list[tuple[str, int, int, int | None, int | None]]:
    runs: list[tuple[str, int, int, int | None, int | None]] = []
    for latency in args.latency:
        rate = None if latency else 1_000_000  # 0 ms: the per-page cap lifted by its setting
        runs += [("desk", k, latency, rate, None) for k in args.workers]
        if args.peer_events:
            runs.append(("naive", 4, latency, None, None))
    return runs


def burst_runs() -> list[tuple[str, int, int, int | None, int | None]]:
    return [("desk", 4, 0, None, 300), ("desk", 4, 0, 1_000_000, 300)]


def run(work: Path, args: argparse.Namespace, design: str, workers: int, latency: int,
        rate: int | None, limit: int | None) -> Outcome:
    label = f"{design}-k{workers}-{latency}ms-{rate or 'default'}"
    events = args.events if design == "desk" else args.peer_events
    customers = [psid(j) for j in range(min(args.customers, events))]
    per_customer = events // len(customers)
    logs = work / label
    logs.mkdir(parents=True, exist_ok=True)
    with redis_server(logs) as redis_url, Database(logs, label) as db, Processes(logs) as procs:
        control = start_standin(procs, latency, limit)
        env = bench_environ(REDIS_URL=redis_url, DATABASE_URL=db.url, SECRET_KEY="bench-secret-key",
                            GRAPH_API_URL=control.base, MESSENGER_APP_SECRET=APP_SECRET,
                            MESSENGER_PAGE_ACCESS_TOKEN=ACCESS_TOKEN, MESSENGER_APP_ID=APP_ID)
        if rate:
            env["SEND_RATE_PER_PAGE"] = str(rate)
        web = start_web(procs, env, design)
        services = [web] + ([start_workers(procs, env, workers)] if design == "desk" else [])
        control.configure(webhook_url=web.url + "/webhook")
        control.add_users([*customers, REFERENCE])
        for customer in [*customers, REFERENCE]:  # opens the 24-hour window, as a customer would
            control.customer_says(customer, "hi")
        if design == "desk":
            db.wait_handled(len(customers) + 1)
            reference = calibrate(control, db, web.url, per_customer)
        else:  # the peer answers each message with what it said
            reference = control.sent_texts(REFERENCE) + [_peer_reply(w) for w in sequence(per_customer)]
        db.mark_run_start()
        return measure(args, label, design, workers, latency, rate, control, db, web.url,
                       services, customers, per_customer, reference)


def _peer_reply(word: str) -> str:
    return f"You said: {word} [{','.join(q['title'] for q in MENU)}]"


class Started:
    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid


def start_standin(procs: Processes, latency: int, limit: int | None) -> StandinControl:
    port = free_port()
    argv = [sys.executable, "-m", "messenger.standin", "--port", str(port), "--page-id", PAGE_ID,
            "--app-id", APP_ID, "--app-secret", APP_SECRET, "--access-token", ACCESS_TOKEN,
            "--latency-ms", str(latency), "--no-echoes"]
    if limit:
        argv += ["--rate-limit", str(limit)]
    procs.start("standin", argv, bench_environ())
    base = f"http://127.0.0.1:{port}"
    wait_for_http(base + "/_standin/config", expect="latency")
    return StandinControl(base)


def start_web(procs: Processes, env: dict[str, str], design: str) -> Started:
    port = free_port()
    env = {**env, "PORT": str(port)}
    if design == "desk":
        process = procs.procfile("web", "web", env)
        wait_for_http(f"http://127.0.0.1:{port}/healthz", expect='"redis"')
    else:  # the tutorial's deployment: gunicorn's default sync workers, four of them
        argv = ["gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}", "bench.peers.naive:app"]
        process = procs.start("naive", argv, env)
        wait_for_http(f"http://127.0.0.1:{port}/healthz", expect="naive")
    return Started(f"http://127.0.0.1:{port}", process.pid)


def start_workers(procs: Processes, env: dict[str, str], workers: int) -> Started:
    process = procs.procfile("worker", "worker", env,
                             replace=("--num-workers 2", f"--num-workers {workers}"))
    return Started("", process.pid)


def calibrate(control: StandinControl, db: Database, web_url: str, per_customer: int) -> list[str]:
    """The reference customer types the same words, each posted after the last was answered."""
    done = db.handled()
    for body in bodies([REFERENCE], per_customer, tag="reference"):
        post_all(web_url + "/webhook", [body], connections=1)
        done += 1
        db.wait_handled(done)
    return control.sent_texts(REFERENCE)


def measure(args: argparse.Namespace, label: str, design: str, workers: int, latency: int,
            rate: int | None, control: StandinControl, db: Database, web_url: str,
            services: list[Started], customers: list[str], per_customer: int,
            reference: list[str]) -> Outcome:
    pids = [pid for s in services for pid in only_python(process_tree(s.pid))]
    events = bodies(customers, per_customer, tag=label)
    cpu_before, memory = cpu_seconds(pids), MemoryWatch(services)
    per_pid_before = {pid: cpu_seconds([pid]) for pid in pids}
    spy = _profile(args, label, services) if design == "desk" and args.profile else None
    started = time.monotonic()
    posted = post_all(web_url + "/webhook", events, args.connections)
    if design == "desk":
        db.wait_handled(db.handled_at_start + len(events), timeout=900)
    seconds = time.monotonic() - started
    pids = [pid for s in services for pid in only_python(process_tree(s.pid))]
    cpu = cpu_seconds(pids) - cpu_before
    print_processes(pids, per_pid_before)
    peak_rss, peak_pss = memory.stop()
    if spy is not None:
        spy.wait(timeout=60)
    order_ok = sum(control.sent_texts(c) == reference for c in customers)
    statuses = control.call_statuses()
    return Outcome(
        design, workers, latency, str(rate or "default"), len(events), round(seconds, 2),
        round(len(events) / seconds, 1), round(posted.median * 1000, 1),
        round(posted.percentile(0.99) * 1000, 1), round(1000 * cpu / len(events), 3),
        round(peak_rss / 2**20), round(peak_pss / 2**20), f"{order_ok}/{len(customers)}",
        sum(n for status, n in statuses.items() if status != 200) + len(posted.failures),
        max_per_second(db.sent_times()) if design == "desk" else 0)


def print_processes(pids: list[int], before: dict[int, float]) -> None:
    """Each process's CPU during the run and its RSS now."""
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        print(f"  pid {pid:7d} CPU {cpu_seconds([pid]) - before.get(pid, 0.0):6.2f} s  "
              f"RSS {rss_bytes([pid]) / 2**20:5.0f} MB  {command[:90]}", flush=True)


def _profile(args: argparse.Namespace, label: str, services: list[Started]):  # type: ignore[no-untyped-def]
    import subprocess

    from bench.procs import VENV_BIN

    args.profile.mkdir(parents=True, exist_ok=True)
    argv = [str(VENV_BIN / "py-spy"), "record", "--pid", str(services[-1].pid), "--subprocesses",
            "--nonblocking", "--gil", "--rate", "200", "--duration", "20", "--format", "raw",
            "--output", str(args.profile / f"{label}.txt")]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


HEADER = (f"{'design':7s} {'K':>2s} {'lat':>5s} {'send cap':>9s} {'events':>6s} {'s':>7s} "
          f"{'events/s':>8s} {'ack p50':>8s} {'ack p99':>8s} {'CPU ms/ev':>9s} {'RSS MB':>6s} "
          f"{'PSS MB':>6s} {'in order':>9s} {'refused':>7s} {'max/s':>6s}")


def print_row(o: Outcome) -> None:
    print(f"{o.design:7s} {o.workers:2d} {o.latency_ms:3d}ms {o.send_rate:>9s} {o.events:6d} "
          f"{o.seconds:7.1f} {o.events_per_s:8.1f} {o.ack_p50_ms:8.1f} {o.ack_p99_ms:8.1f} "
          f"{o.cpu_ms_per_event:9.3f} {o.peak_rss_mb:6.0f} {o.peak_pss_mb:6.0f} "
          f"{o.customers_in_order:>9s} {o.refused_sends:7d} {o.max_sends_per_s:6d}", flush=True)


def print_table(outcomes: list[Outcome]) -> None:
    print("\n" + HEADER)
    for outcome in outcomes:
        print_row(outcome)
    print(f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
