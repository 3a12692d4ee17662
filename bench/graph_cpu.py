"""Client CPU of one Send API call: the drain thread's CPU per `GraphTransport.request`
against a keep-alive HTTP server in another process, with urllib3's `urlopen` and
http.client on the same request for scale. `--pause-ms` sleeps between calls, as a
drain thread waits for Meta's answer: a thread woken from a sleep spends several times
the CPU of a hot loop on the same call. `--profile` prints where the time goes.

    python -m bench.graph_cpu [--calls 3000] [--rounds 3] [--pause-ms 0] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import multiprocessing
import pstats
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import urllib3

from messenger.graph_http import GraphTransport
from messenger.graph_session import pooled_session

PAYLOAD = {"recipient": {"id": "123"}, "message": {"text": "hello there"},
           "messaging_type": "RESPONSE"}
ANSWER = b'{"recipient_id":"123","message_id":"m_1"}'
AUTH = {"access_token": "x" * 200, "appsecret_proof": "y" * 64}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else the body waits for the client's delayed ACK

    def do_POST(self) -> None:  # noqa: N802 -- http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args: object) -> None:
        pass


def serve(port: multiprocessing.Queue) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.put(server.server_port)
    server.serve_forever()


def cpu_per_call(call: Callable[[], object], calls: int, pause: float = 0.0) -> float:
    """Microseconds of this thread's CPU per call, after a warm-up."""
    for _ in range(100):
        call()
    used = 0.0
    for _ in range(calls):
        if pause:
            time.sleep(pause)
        started = time.thread_time()
        call()
        used += time.thread_time() - started
    return 1e6 * used / calls


def contenders(port: int) -> dict[str, Callable[[], object]]:
    transport = GraphTransport(
        base_url=f"http://127.0.0.1:{port}/v27.0", auth_params=AUTH,
        session=pooled_session(4), timeout=(3.05, 10.0), max_attempts=4, backoff=0.25,
        max_backoff=4.0, sleep=time.sleep)
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=4)
    timeout = urllib3.Timeout(connect=3.05, read=10.0)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    url = "/v27.0/me/messages?" + "&".join(f"{k}={v}" for k, v in AUTH.items())
    headers = {"Content-Type": "application/json"}

    def urlopen() -> object:
        answer = pool.urlopen("POST", url, body=json.dumps(PAYLOAD).encode(), headers=headers,
                              retries=False, timeout=timeout)
        return json.loads(answer.data)

    def raw() -> object:
        conn.request("POST", url, body=json.dumps(PAYLOAD).encode(), headers=headers)
        return json.loads(conn.getresponse().read())

    return {"GraphTransport.request": lambda: transport.request("POST", "/me/messages",
                                                                json=PAYLOAD),
            "urllib3 urlopen": urlopen, "http.client": raw}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.graph_cpu",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause-ms", type=float, default=0.0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    server.start()
    calls = contenders(queue.get(timeout=10))
    for name, call in calls.items():
        figures = [cpu_per_call(call, args.calls, args.pause_ms / 1000)
                   for _ in range(args.rounds)]
        print(f"{name:24s} " + " ".join(f"{f:6.0f}" for f in figures) + " µs CPU per call", flush=True)
    if args.profile:
        profile = cProfile.Profile(time.thread_time)
        profile.runcall(cpu_per_call, calls["GraphTransport.request"], args.calls)
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    server.terminate()


if __name__ == "__main__":
    main()
