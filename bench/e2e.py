"""End-to-end throughput (issue 6): E events from U customers, posted to the
`web` process as the Procfile starts it, with K worker processes (the
Procfile's `worker` line with `--num-workers K`) on the Graph API stand-in
with added latency; and, in the same run, the naive peer (`bench.peers.naive`).

Measures events/s until every event has its reply, that each customer got
exactly the replies of a reference customer who typed the same words one at a
time (order and exactly-once), the CPU of the service's processes per event,
and their peak RSS. Not run in CI; see docs/PERFORMANCE.md.

    python -m bench.e2e --workers 1 2 4 --latency 0 100 --plot docs/e2e_throughput.png

With `--pages 1 4` (issue 18) each desk run is made once per Page count P: the
customers are spread round robin over P Pages (a pages file, each Page with its own
token), each Page has its own reference customer, and the stand-in reports each
Page's busiest second. One Page is today's setup exactly (no pages file).

Customers type the words of `--keywords` in turn. By default they are words
whose flows answer with one message, so each event costs one Send API call, as
in the naive peer (which echoes with one call) and in the issue's figures.
`--keywords billing technical hours refunds invoices account` is the menu mix:
billing and technical answer with two messages (1.33 calls per event on
average), so the page's send cap, 250 calls/s by default, bounds it at ~188
events/s whatever the service does.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

from bench.e2e_checks import calibrate, check_pages
from bench.e2e_report import (
    Outcome,
    print_harness,
    print_page_timeline,
    print_processes,
    print_row,
    print_table,
    print_timeline,
)
from bench.e2e_start import Started, profile, start_standin, start_web, start_workers
from bench.load import StandinControl, bodies, post_all, sequence
from bench.pages_setup import BenchPage, PageSet
from bench.peers.naive import MENU
from bench.procs import (
    ROOT,
    Processes,
    bench_environ,
    cpu_seconds,
    cpu_times,
    only_python,
    process_tree,
    redis_server,
)
from bench.run_state import Database, MemoryWatch, max_per_second
from bench.signed import APP_ID, APP_SECRET, ONE_REPLY_KEYWORDS, psid
from messenger.standin.faults import META_SEND_LIMIT


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--latency", type=int, nargs="+", default=[0, 100], help="ms per Send API call")
    parser.add_argument("--pages", type=int, nargs="+", default=[1],
                        help="Pages the customers are spread over (the naive peer: 1 only)")
    parser.add_argument("--peer-events", type=int, default=1000,
                        help="events for the naive peer at each latency (0: skip it)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent webhook POSTs")
    parser.add_argument("--burst", action="store_true",
                        help="only the throttle run: 0 ms, stand-in enforcing 300/s, K=4, with the "
                             "throttle at its default and lifted")
    parser.add_argument("--profile", type=Path, help="py-spy the workers of each desk run into DIR")
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile",
                        help="take the web and worker lines from another Procfile (to compare)")
    parser.add_argument("--keywords", nargs="+", default=list(ONE_REPLY_KEYWORDS),
                        help="the words customers type, in turn (default: flows answering with "
                             "one message)")
    parser.add_argument("--timeline", action="store_true",
                        help="print each desk run's answered calls per second, start to end "
                             "(and each Page's, with several)")
    parser.add_argument("--json", type=Path, help="append each outcome as a JSON line")
    parser.add_argument("--plot", type=Path,
                        help="PNG of events/s against K (against P when --pages has several)")
    args = parser.parse_args()
    if min(args.pages) < 1:
        parser.error("--pages takes counts of 1 or more")
    return args


class Plan(NamedTuple):
    design: str
    workers: int
    latency: int
    rate: int | None  # SEND_RATE_PER_PAGE; None: the service's default
    limit: int | None  # the stand-in's refusal limit per Page; None: none
    pages: int = 1


def main() -> None:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    print(f"logs in {work}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
          flush=True)
    outcomes: list[Outcome] = []
    for plan in burst_runs() if args.burst else desk_runs(args):
        outcome = run(work, args, plan)
        outcomes.append(outcome)
        print_row(outcome)
        print_harness(outcome)
        if args.json:
            with args.json.open("a") as out:
                out.write(json.dumps(asdict(outcome)) + "\n")
    print_table(outcomes)
    if args.plot:
        from bench.plot import plot

        plot(outcomes, args.plot)


def desk_runs(args: argparse.Namespace) -> list[Plan]:
    """Per latency, each K with each Page count in turn (so P=1 and P=4 of one K run side by
    side), then the naive peer (one Page)."""
    runs: list[Plan] = []
    for latency in args.latency:
        # With the default pace the stand-in enforces Meta's 300 calls/s per page, so a
        # throttle that let a second hold more would show as refused calls; at 0 ms the
        # per-page cap is lifted by its setting and the stand-in takes whatever comes.
        rate, limit = (None, META_SEND_LIMIT) if latency else (1_000_000, None)
        runs += [Plan("desk", k, latency, rate, limit, pages)
                 for k in args.workers for pages in args.pages]
        if args.peer_events:
            runs.append(Plan("naive", 4, latency, None, None))
    return runs


def burst_runs() -> list[Plan]:
    return [Plan("desk", 4, 0, None, 300), Plan("desk", 4, 0, 1_000_000, 300)]


def run(work: Path, args: argparse.Namespace, plan: Plan) -> Outcome:
    design, latency, rate = plan.design, plan.latency, plan.rate
    pages_tag = f"-p{plan.pages}" if plan.pages > 1 else ""
    label = f"{design}-k{plan.workers}{pages_tag}-{latency}ms-{rate or 'default'}"
    events = args.events if design == "desk" else args.peer_events
    customers = [psid(j) for j in range(min(args.customers, events))]
    per_customer = events // len(customers)
    pages = PageSet.of(plan.pages)
    page_of = pages.page_of(customers)  # and each Page's reference customer
    logs = work / label
    logs.mkdir(parents=True, exist_ok=True)
    with redis_server(logs) as redis_url, Database(logs, label) as db, Processes(logs) as procs:
        control, standin_pid = start_standin(procs, latency, plan.limit, pages)
        env = bench_environ(REDIS_URL=redis_url, DATABASE_URL=db.url, SECRET_KEY="bench-secret-key",
                            GRAPH_API_URL=control.base, MESSENGER_APP_SECRET=APP_SECRET,
                            MESSENGER_APP_ID=APP_ID, **pages.service_environ(logs))
        if rate:
            env["SEND_RATE_PER_PAGE"] = str(rate)
        web = start_web(procs, env, design, args.procfile)
        services = [web] + ([start_workers(procs, env, plan.workers, args.procfile)]
                            if design == "desk" else [])
        for page in pages.pages:
            control.configure(page.id, webhook_url=web.url + "/webhook")
        for customer, page in page_of.items():
            control.add_users([customer], page.id)
        for customer, page in page_of.items():  # opens the 24-hour window, as a customer would
            control.customer_says(customer, "hi", page.id)
        if design == "desk":
            db.wait_handled(len(page_of))
            reference = calibrate(control, db, web.url, per_customer, args.keywords, pages)
        else:  # the peer answers each message with what it said
            first = pages.pages[0]
            reference = {first.id: control.sent_texts(first.reference, first.id) + [
                _peer_reply(w) for w in sequence(per_customer, args.keywords)]}
        db.mark_run_start()
        return measure(args, Stage(label, plan, control, standin_pid, db, web.url, services,
                                   customers, per_customer, pages, page_of, reference))


def _peer_reply(word: str) -> str:
    return f"You said: {word} [{','.join(q['title'] for q in MENU)}]"


@dataclass
class Stage:
    """A run whose processes are up, its customers known and its references taken."""

    label: str
    plan: Plan
    control: StandinControl
    standin_pid: int
    db: Database
    web_url: str
    services: list[Started]
    customers: list[str]
    per_customer: int
    pages: PageSet
    page_of: dict[str, BenchPage]
    reference: dict[str, list[str]]  # Page id -> its reference customer's replies


def measure(args: argparse.Namespace, st: Stage) -> Outcome:
    desk = st.plan.design == "desk"
    pids = [pid for s in st.services for pid in only_python(process_tree(s.pid))]
    events = bodies(st.customers, st.per_customer, tag=st.label, keywords=args.keywords,
                    pages={c: p.id for c, p in st.page_of.items()})
    cpu_before, memory = cpu_seconds(pids), MemoryWatch(st.services)
    harness = [st.standin_pid, os.getpid()]  # the stand-in, and this process: the load
    per_pid_before = {pid: cpu_times(pid) for pid in [*pids, *harness]}
    spy = profile(args.profile, st.label, st.services) if desk and args.profile else None
    started = time.monotonic()
    posted = post_all(st.web_url + "/webhook", events, args.connections)
    if desk:
        st.db.wait_handled(st.db.handled_at_start + len(events), timeout=900)
    seconds = time.monotonic() - started
    standin_cpu, load_cpu = (sum(cpu_times(pid)) - sum(per_pid_before[pid]) for pid in harness)
    pids = [pid for s in st.services for pid in only_python(process_tree(s.pid))]
    cpu = cpu_seconds(pids) - cpu_before
    print_processes([*pids, *harness], per_pid_before)
    peak_rss, peak_pss = memory.stop()
    if spy is not None:
        spy.wait(timeout=60)
    checks = check_pages(st.control, st.pages, st.page_of, st.customers, st.reference)
    for difference in checks.differences:
        print("  out of order:", difference, flush=True)
    if args.timeline and desk:
        since = time.time() - (time.monotonic() - started)
        print_timeline(st.db.sent_times(), since)
        for page_id, rate in checks.rates.items() if st.plan.pages > 1 else ():
            print_page_timeline(page_id, rate["per_second"], since)
    n = len(events)
    return Outcome(
        design=st.plan.design, workers=st.plan.workers, latency_ms=st.plan.latency,
        send_rate=str(st.plan.rate or "default"), events=n, seconds=round(seconds, 2),
        events_per_s=round(n / seconds, 1),
        calls_per_s=round((st.db.sent() - st.db.sent_at_start) / seconds, 1) if desk else 0.0,
        ack_p50_ms=round(posted.median * 1000, 1),
        ack_p99_ms=round(posted.percentile(0.99) * 1000, 1),
        cpu_ms_per_event=round(1000 * cpu / n, 3), peak_rss_mb=round(peak_rss / 2**20),
        peak_pss_mb=round(peak_pss / 2**20), customers_in_order=f"{checks.in_order}/{len(st.customers)}",
        refused_sends=sum(checks.refused) + len(posted.failures),
        max_sends_per_s=max_per_second(st.db.sent_times()) if desk else 0,
        pages=st.plan.pages, busiest_per_page=checks.busiest, refused_per_page=checks.refused,
        harness_cpu_ms_per_event=round(1000 * (standin_cpu + load_cpu) / n, 3),
        standin_cpu_ms_per_event=round(1000 * standin_cpu / n, 3),
        load_cpu_ms_per_event=round(1000 * load_cpu / n, 3))


if __name__ == "__main__":
    main()
