#!/usr/bin/env python3
"""How long this machine's storage takes to make a small write durable: the floor under the start lateness of any
scheduler whose runs commit synchronously (an executor waiting for its commit's WAL flush cannot start the next run).

Writes 8 kB and calls fdatasync, RATE times a second for SECONDS, in a scratch file in DIRECTORY (put it on the file
system of the cluster's data directory), and prints how long each flush took.

  flush_floor.py RATE SECONDS DIRECTORY PREFIX >> results.txt
      prints PREFIX_count, _p50_ms, _p99_ms, _p999_ms, _max_ms, and _stalls (flushes of 50 ms or more)
"""
import os
import sys
import time


def main():
    rate, seconds, directory, prefix = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
    path = os.path.join(directory, f"flush_floor.{os.getpid()}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    block = b"\0" * 8192
    took = []
    try:
        began = time.monotonic()
        due = began
        while due < began + seconds:
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            os.pwrite(fd, block, (len(took) % 128) * len(block))
            t = time.monotonic()
            os.fdatasync(fd)
            took.append((time.monotonic() - t) * 1000.0)
            due += 1.0 / rate
    finally:
        os.close(fd)
        os.unlink(path)
    took.sort()
    n = len(took)

    def pct(p):
        return took[min(n - 1, int(p * n))] if n else 0.0

    print(f"{prefix}_count={n}")
    for name, p in (("p50", 0.50), ("p99", 0.99), ("p999", 0.999)):
        print(f"{prefix}_{name}_ms={pct(p):.3f}")
    print(f"{prefix}_max_ms={took[-1] if n else 0.0:.3f}")
    print(f"{prefix}_stalls={sum(1 for x in took if x >= 50.0)}")


if __name__ == "__main__":
    main()
