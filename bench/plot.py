"""The PNG of `bench.e2e`: events/s against worker processes, per Graph latency,
with the naive peer as a flat line; or, when the results have several Page counts
(`--pages 1 4`), events/s against Pages, one line per K and latency. Redraw from
saved results:

    python -m bench.plot RESULTS.jsonl docs/e2e_throughput.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def plot(outcomes: list[Any], path: Path) -> None:
    if len({getattr(o, "pages", 1) for o in outcomes if o.design == "desk"}) > 1:
        plot_pages(outcomes, path)
    else:
        plot_workers(outcomes, path)


def plot_workers(outcomes: list[Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    latencies = sorted({o.latency_ms for o in outcomes})
    for latency in latencies:
        desk = sorted((o.workers, o.events_per_s) for o in outcomes
                      if o.design == "desk" and o.latency_ms == latency)
        if desk:
            ks, rates = zip(*desk, strict=True)
            ax.plot(ks, rates, marker="o", label=f"support desk, Graph latency {latency} ms")
        for o in outcomes:
            if o.design == "naive" and o.latency_ms == latency:
                ax.axhline(o.events_per_s, linestyle="--", color="grey")
                ax.annotate(f"naive peer (4 gunicorn workers), {latency} ms: {o.events_per_s:.0f}/s",
                            (max(o.workers for o in outcomes), o.events_per_s), ha="right",
                            textcoords="offset points", xytext=(0, 4), fontsize=8, color="dimgrey")
    ax.axhline(200, linestyle=":", color="firebrick")
    ax.annotate("issue 6 target at 100 ms: 200/s", (1, 200), textcoords="offset points",
                xytext=(0, -11), fontsize=8, color="firebrick")
    ax.set_xlabel("worker processes (K)")
    ax.set_ylabel("events/s, every event answered")
    ax.set_xticks(sorted({o.workers for o in outcomes if o.design == "desk"}))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    # Below the axes: the lines move with the machine, so no spot inside stays free.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    ax.set_title("Throughput against worker processes (2-core machine)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_pages(outcomes: list[Any], path: Path) -> None:
    """Events/s against the Pages the customers are spread over, one line per K and latency."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    desk = [o for o in outcomes if o.design == "desk"]
    fig, ax = plt.subplots(figsize=(7, 5), dpi=110)
    target = "issue 18 target: 2.5 x one Page"
    for workers, latency in sorted({(o.workers, o.latency_ms) for o in desk}):
        points = sorted((getattr(o, "pages", 1), o.events_per_s) for o in desk
                        if (o.workers, o.latency_ms) == (workers, latency))
        pages, rates = zip(*points, strict=True)
        line, = ax.plot(pages, rates, marker="o", label=f"K={workers}, Graph latency {latency} ms")
        if pages[0] == 1 and len(pages) > 1:  # where the most Pages should reach
            ax.plot([pages[-1]], [2.5 * rates[0]], marker="_", markersize=18, color=line.get_color(),
                    linestyle="none", label=target)
            target = "_nolegend_"
    ax.set_xlabel("Pages the customers write to (P)")
    ax.set_ylabel("events/s, every event answered")
    ax.set_xticks(sorted({getattr(o, "pages", 1) for o in desk}))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    ax.set_title("Throughput against Pages (Meta limits each Page's Send API calls)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    rows = [SimpleNamespace(**json.loads(line)) for line in Path(sys.argv[1]).read_text().splitlines()]
    plot(rows, Path(sys.argv[2]))


if __name__ == "__main__":
    main()
