"""The per-page Send API throttle under a burst above Meta's limit.

`python -m bench.burst` starts a throwaway Redis and the Graph API stand-in
enforcing Meta's 300 calls/s per page, then has P processes × T threads send
as fast as they can through `GraphClient` (one attempt, no retries, so every
refusal is counted), once through the shared throttle (`core.throttle`, at the
default `SEND_RATE_PER_PAGE`) and once without it. Prints calls/s, the busiest one-second
window and the refusals of each.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from bench.e2e import start_standin
from bench.procs import Processes, redis_server
from bench.run_state import max_per_second_stamps
from bench.signed import ACCESS_TOKEN, APP_SECRET, PAGE_ID, psid
from config.settings import Settings


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--calls", type=int, default=3000, help="calls per run, over all senders")
    parser.add_argument("--rate", type=int, default=Settings.send_rate_per_page,
                        help="the throttle's calls/s per page (default: SEND_RATE_PER_PAGE's)")
    return parser.parse_args()


def sender(graph_url: str, redis_url: str, rate: int | None, calls: int, threads: int
           ) -> list[tuple[float, bool]]:
    """One process: `threads` threads make `calls` Send API calls; (time, accepted) each."""
    import logging

    from redis import Redis

    from core.throttle import SendThrottle
    from messenger.errors import GraphError
    from messenger.graph import GraphClient

    logging.getLogger("messenger.graph").setLevel(logging.ERROR)  # refusals are counted instead
    graph = GraphClient(access_token=ACCESS_TOKEN, app_secret=APP_SECRET, api_url=graph_url,
                        max_attempts=1, pool_size=threads)
    throttle = SendThrottle(Redis.from_url(redis_url), rate) if rate else None
    results: list[tuple[float, bool]] = []
    lock = threading.Lock()

    def run(count: int, offset: int) -> None:
        for i in range(count):
            if throttle is not None:
                throttle.wait(PAGE_ID)
            try:
                graph.send_text_message(psid((offset + i) % 50), "burst")
                ok = True
            except GraphError:
                ok = False
            with lock:
                results.append((time.time(), ok))

    workers = [threading.Thread(target=run, args=(calls // threads, t * 1000))
               for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def measure(graph_url: str, redis_url: str, rate: int | None, args: argparse.Namespace) -> str:
    per_process = args.calls // args.processes
    with ProcessPoolExecutor(args.processes, mp_context=get_context("spawn")) as pool:
        started = time.time()
        futures = [pool.submit(sender, graph_url, redis_url, rate, per_process, args.threads)
                   for _ in range(args.processes)]
        results = [item for future in futures for item in future.result()]
    seconds = max(t for t, _ in results) - started
    accepted = [t for t, ok in results if ok]
    refused = len(results) - len(accepted)
    label = f"throttle {rate}/s" if rate else "no throttle"
    return (f"{label:18s} {len(results):6d} calls in {seconds:5.1f} s = {len(results) / seconds:6.0f}/s; "
            f"accepted {len(accepted):5d}, refused by the 300/s limit {refused:5d}; busiest second "
            f"{max_per_second_stamps(accepted):4d} accepted")


def main() -> None:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    print(f"{args.processes} processes x {args.threads} threads, stand-in enforcing 300 calls/s; "
          f"logs in {work}", flush=True)
    for rate in (args.rate, None):
        with redis_server(work) as redis_url, Processes(work) as procs:
            control = start_standin(procs, latency=0, limit=300)
            control.add_users(psid(n) for n in range(50))
            for n in range(50):
                control.customer_says(psid(n), "hi")  # opens the 24-hour window
            print(measure(control.base, redis_url, rate, args), flush=True)


if __name__ == "__main__":
    main()
