#!/usr/bin/env python3
"""How late a plain process wakes up on this machine: the floor under any scheduler's start lateness (used by
bench/run.sh beside the lateness scenario, so it sees the same load).

Sleeps until RATE deadlines a second, each 1..2000 ms ahead like the tasks of the lateness scenario, for SECONDS, and
measures how long after each deadline it was running again.

  timer_floor.py RATE SECONDS PREFIX >> results.txt    prints PREFIX_count, _p50_ms, _p95_ms, _p99_ms, _max_ms
"""
import heapq
import random
import sys
import time


def main():
    rate, seconds, prefix = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    began = time.monotonic()
    deadlines = []
    next_arrival = began
    late = []
    while True:
        now = time.monotonic()
        while next_arrival <= now and next_arrival < began + seconds:
            heapq.heappush(deadlines, next_arrival + random.uniform(0.001, 2.0))
            next_arrival += random.expovariate(rate)
        if not deadlines and next_arrival >= began + seconds:
            break
        wake = min(deadlines[0] if deadlines else next_arrival, next_arrival)
        if wake > now:
            time.sleep(wake - now)
        now = time.monotonic()
        while deadlines and deadlines[0] <= now:
            late.append((now - heapq.heappop(deadlines)) * 1000.0)
    late.sort()
    n = len(late)

    def pct(p):
        return late[min(n - 1, int(p * n))] if n else 0.0

    print(f"{prefix}_count={n}")
    print(f"{prefix}_p50_ms={pct(0.50):.3f}")
    print(f"{prefix}_p95_ms={pct(0.95):.3f}")
    print(f"{prefix}_p99_ms={pct(0.99):.3f}")
    print(f"{prefix}_max_ms={late[-1] if n else 0.0:.3f}")


if __name__ == "__main__":
    main()
