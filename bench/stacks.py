"""Summarise a py-spy `--format raw` profile (collapsed stacks): the share of
samples in which each function is on the stack (inclusive) and on top (self).

    python -m bench.stacks PROFILE.txt [--top 30] [--match webhook]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def load(path: Path, idle: tuple[str, ...]) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        names = [f.split(" (")[0] + " (" + _where(f) + ")" for f in frames.split(";") if f]
        if names and not any(word in names[-1] for word in idle):
            stacks.append((names, int(count)))
    return stacks


def _where(frame: str) -> str:
    inside = frame.split(" (", 1)[1].rstrip(")") if " (" in frame else ""
    return inside.split(".venv/lib/python3.11/site-packages/")[-1].split("/work/main/")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--idle", default="wait,select,poll,accept,sleep,recv_into,readline",
                        help="leaf functions that mean waiting, not working (comma separated)")
    args = parser.parse_args()
    stacks = load(args.profile, tuple(args.idle.split(",")))
    total = sum(count for _, count in stacks)
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for names, count in stacks:
        for name in set(names):
            inclusive[name] += count
        own[names[-1]] += count
    print(f"{total} busy samples")
    print("inclusive  self   function")
    for name, count in inclusive.most_common(args.top):
        print(f"{100 * count / total:8.1f}% {100 * own[name] / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
