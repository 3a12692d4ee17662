"""Webhook acknowledgement benchmark (issue 2).

`python -m bench.ack` starts a throwaway redis-server and, one after the
other under the Procfile's exact `web` command line, (1) a bare Flask endpoint
that returns 200 (`bench.bare:app`) and (2) the real webhook (`app:app`). wrk
POSTs distinct, correctly signed webhook bodies at 32 connections to each; the
script prints both rates, the ratio, p50/p99 latency, the servers' CPU per
request, and checks that every acknowledged event is in a Redis mailbox.
Needs `wrk` (apt-get install wrk).
`--tricklers N` holds N slow clients (bench/trickle.py) open during each run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from bench.procs import (
    ROOT,
    VENV_BIN,
    Processes,
    bench_environ,
    cpu_seconds,
    free_port,
    only_python,
    process_tree,
    redis_server,
    wait_for_http,
)
from bench.signed import APP_SECRET, write_bodies
from bench.trickle import Tricklers
from core.schema import upgrade_database

LUA = Path(__file__).with_name("ack.lua")
TARGETS = {"bare": "bench.bare:app", "webhook": "app:app"}


@dataclass
class Result:
    target: str
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float  # the web process tree
    all_cpu_ms_per_request: float  # web + redis-server + wrk: what 2 cores must share
    web_cores: float  # the web tree's CPU seconds per second: 2.0 = both cores saturated
    switches_per_request: float  # the web threads' context switches (voluntary + forced)
    machine_cores: float  # all processes on the machine, for comparison with web_cores
    web_system_share: float  # of the web tree's CPU, the part spent in the kernel
    per_process: list[float]  # busy cores of each web process (imbalance between workers)
    wrk: dict[str, int]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=5, help="bare/webhook pairs; medians are reported")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile",
                        help="read the web line from another Procfile (to compare settings)")
    parser.add_argument("--profile", type=Path,
                        help="also record a py-spy profile of the webhook workers (collapsed "
                             "stacks) into this file; the figures of such a run are not reported")
    parser.add_argument("--bodies", type=int, default=60_000, help="distinct signed bodies per run")
    parser.add_argument("--tricklers", type=int, default=0,
                        help="during each measured run, also hold this many connections trickling "
                             "their headers and a fifth as many trickling their bodies, one byte "
                             "every 2 s (bench/trickle.py)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-ack-"))
    upgrade_database(database_url(work))  # the Procfile's release step: the web refuses without
    print(f"logs in {work}", flush=True)
    with redis_server(work) as redis_url, Processes(work) as procs:
        results: dict[str, list[Result]] = {name: [] for name in TARGETS}
        for round_no in range(args.rounds):
            for name in TARGETS:
                result = measure(procs, work, redis_url, name, round_no, args)
                results[name].append(result)
                print(f"round {round_no + 1} {name:8s} {result.rate:8.0f} req/s  "
                      f"p50 {result.p50_ms:5.1f} ms  p99 {result.p99_ms:5.1f} ms  "
                      f"CPU {result.cpu_ms_per_request:.3f} ms/req "
                      f"(all {result.all_cpu_ms_per_request:.3f}), web busy "
                      f"{result.web_cores:.2f} of {result.machine_cores:.2f} busy cores, "
                      f"{result.switches_per_request:.1f} switches/req, "
                      f"{100 * result.web_system_share:.0f}% in the kernel, per process "
                      f"{result.per_process}", flush=True)
    report(results, args)
    shutil.rmtree(work, ignore_errors=True)  # kept when something failed


def database_url(work: Path) -> str:
    return f"sqlite:///{work / 'desk.db'}"


def measure(procs: Processes, work: Path, redis_url: str, name: str, round_no: int,
            args: argparse.Namespace) -> Result:
    port = free_port()
    env = bench_environ(PORT=str(port), REDIS_URL=redis_url, MESSENGER_APP_SECRET=APP_SECRET,
                        DATABASE_URL=database_url(work), SECRET_KEY="bench-secret-key")
    server = procs.procfile(f"web-{name}-{round_no}", "web", env, replace=("'app:app'", TARGETS[name]),
                            procfile=args.procfile)
    base = f"http://127.0.0.1:{port}"
    wait_for_http(base + "/healthz", expect='"redis"' if name == "webhook" else "bare")
    if server.poll() is not None:
        raise SystemExit(f"the {name} server exited: see {work}/web-{name}-{round_no}.log")
    redis = Redis.from_url(redis_url)
    warmup = work / f"warmup-{round_no}.txt"
    write_bodies(warmup, count=20_000, customers=args.customers, tag=f"w{name}{round_no}")
    run_wrk(base, warmup, 2, args)
    time.sleep(1.0)  # requests in flight when wrk stopped still land in Redis
    redis.flushall()
    bodies = work / f"bodies-{round_no}.txt"
    tag = f"{name}{round_no}"
    write_bodies(bodies, count=args.bodies, customers=args.customers, tag=tag)
    pids = only_python(process_tree(server.pid))
    redis_pid = int(redis.info("server")["process_id"])
    cpu_before, redis_before, wrk_before = cpu_seconds(pids), cpu_seconds([redis_pid]), children_cpu()
    switches_before, machine_before = context_switches(pids), machine_busy()
    system_before = system_seconds(pids)
    each_before = [cpu_seconds([pid]) for pid in pids]
    spy = profile(procs, server.pid, args) if name == "webhook" and args.profile else None
    tricklers = None
    if args.tricklers:
        tricklers = Tricklers(port, headers=args.tricklers, bodies=args.tricklers // 5)
        tricklers.start()
        time.sleep(2.5)  # each has been accepted and has sent bytes since
    stats = run_wrk(base, bodies, args.duration, args)
    if tricklers is not None:
        still_open = tricklers.stop()
        print(f"  tricklers: {len(still_open)} open at the end; the server closed "
              f"{sum(map(len, tricklers.lifetimes.values()))} meanwhile", flush=True)
    if spy is not None:
        spy.wait(timeout=60)
    cpu = cpu_seconds(pids) - cpu_before
    switches = context_switches(pids) - switches_before
    machine = machine_busy() - machine_before
    system = system_seconds(pids) - system_before
    each = [cpu_seconds([pid]) - before for pid, before in zip(pids, each_before, strict=True)]
    others = cpu_seconds([redis_pid]) - redis_before + children_cpu() - wrk_before
    procs.stop(server)
    if name == "webhook":
        verify(redis, stats, tag, args.connections)
    redis.close()
    seconds, requests = stats["duration_us"] / 1e6, max(stats["requests"], 1)
    return Result(name, stats["requests"] / seconds, stats["p50_us"] / 1000, stats["p99_us"] / 1000,
                  1000 * cpu / requests, 1000 * (cpu + others) / requests, cpu / seconds,
                  switches / requests, machine / seconds, system / max(cpu, 1e-9),
                  [round(c / seconds, 2) for c in each], stats)


def context_switches(pids: list[int]) -> int:
    """Context switches so far of every thread of these processes."""
    total = 0
    for pid in pids:
        for status in Path(f"/proc/{pid}/task").glob("*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            total += sum(int(line.split()[1]) for line in text.splitlines()
                         if "ctxt_switches:" in line)
    return total


def system_seconds(pids: list[int]) -> float:
    """Kernel CPU of these processes so far (the `stime` part of `cpu_seconds`)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[12])
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds the whole machine has spent not idle (/proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def profile(procs: Processes, pid: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    argv = [str(VENV_BIN / "py-spy"), "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--gil",
            "--rate", "250", "--duration", str(args.duration - 1), "--format", "raw",
            "--output", str(args.profile.resolve())]
    return procs.start("py-spy", argv, bench_environ())


def run_wrk(base: str, bodies: Path, duration: int, args: argparse.Namespace) -> dict[str, int]:
    # One wrk thread: it leaves the most CPU to the server, and it sends the
    # bodies in file order, which `verify` relies on.
    argv = ["wrk", "-t1", f"-c{args.connections}", f"-d{duration}s", "--timeout", "5s",
            "-s", str(LUA), base + "/webhook", "--", str(bodies), "1"]
    run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"wrk failed ({run.returncode}): {run.stderr.strip() or run.stdout.strip()}")
    output = run.stdout
    return json.loads(output.strip().splitlines()[-1])


def verify(redis: Redis, stats: dict[str, int], tag: str, connections: int) -> None:
    """Every acknowledged event is in a mailbox, once.

    wrk stops mid-flight: requests written but not answered when the clock ran
    out may or may not have reached the server. So: nothing refused, at least
    as many events stored as acknowledged, and every body that is missing is
    one of the last `connections` sent (one per connection, unanswered).
    """
    stored = stored_indices(redis, tag)
    sent = stats["sent"] - stats["wrapped"]
    missing = sorted(set(range(1, sent + 1)) - stored)  # body 0 is wrk's test call
    problems = []
    if stats["refused"] or stats["socket_errors"] or stats["timeouts"]:
        problems.append(f"{stats['refused']} non-200, {stats['socket_errors']} socket errors, "
                        f"{stats['timeouts']} timeouts")
    if len(stored) < stats["ok"] or len(stored) > sent or 0 in stored:
        problems.append(f"{stats['ok']} acknowledged and {sent} sent, but {len(stored)} stored")
    unanswered = stats["sent"] - stats["ok"]
    if len(missing) > unanswered or any(i <= sent - 2 * connections for i in missing):
        problems.append(f"missing bodies {missing[:10]} are not the last ones sent")
    jobs = redis.llen("rq:queue:events")
    print(f"  verified: {stats['ok']} acknowledged (200), {unanswered} unanswered at the stop, "
          f"{len(stored)} distinct events in mailboxes, {len(missing)} of the unanswered never "
          f"arrived, {stats['wrapped']} duplicates sent, {jobs} drain jobs enqueued", flush=True)
    if problems:
        raise SystemExit("VERIFY FAILED: " + "; ".join(problems))


def stored_indices(redis: Redis, tag: str) -> set[int]:
    """Body numbers of this run's events found in the mailboxes (mid `m_<tag>_<n>`)."""
    prefix, found, total = f"m_{tag}_", set(), 0
    for key in redis.scan_iter("sd:mb:*", count=1000):
        for member in redis.zrange(key, 0, -1):
            event = json.loads(member.split(b"|", 1)[1])["event"]
            mid = event["message"]["mid"]
            if mid.startswith(prefix):
                found.add(int(mid[len(prefix):]))
                total += 1
    if total != len(found):
        raise SystemExit(f"VERIFY FAILED: {total - len(found)} events stored twice")
    return found


def report(results: dict[str, list[Result]], args: argparse.Namespace) -> None:
    def med(name: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in results[name])

    bare, hook = med("bare", "rate"), med("webhook", "rate")
    print(f"\n{args.connections} connections, {args.duration} s per run, median of {args.rounds} "
          f"rounds (gunicorn as the Procfile's web line)")
    print(f"{'endpoint':10s} {'req/s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'web CPU ms/req':>15s} "
          f"{'all CPU ms/req':>15s}")
    for name in TARGETS:
        print(f"{name:10s} {med(name, 'rate'):8.0f} {med(name, 'p50_ms'):7.1f} "
              f"{med(name, 'p99_ms'):7.1f} {med(name, 'cpu_ms_per_request'):15.3f} "
              f"{med(name, 'all_cpu_ms_per_request'):15.3f}")
    ratio = hook / bare if bare else 0.0  # 0: the bare endpoint answered nothing
    by_cpu = med("bare", "all_cpu_ms_per_request") / (med("webhook", "all_cpu_ms_per_request") or 1)
    p99 = med("webhook", "p99_ms")
    print(f"CPU-bound ratio (bare CPU per request / webhook CPU per request, all processes): "
          f"{by_cpu:.2f}; load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"ratio webhook/bare = {ratio:.2f} (target >= 0.6); webhook p99 {p99:.1f} ms "
          f"(target <= 25 ms): {'PASS' if ratio >= 0.6 and p99 <= 25 else 'FAIL'}")


if __name__ == "__main__":
    main()
