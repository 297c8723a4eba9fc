#!/usr/bin/env python3
"""CPU time and memory of a cluster's processes, read from /proc (used by bench/run.sh).

Watches the children of one postmaster whose command line matches a pattern, until SIGTERM or --seconds, sampling
every --interval seconds. CPU is utime + stime (fields 14 and 15 of /proc/<pid>/stat, in CLK_TCK ticks). Memory comes from /proc/<pid>/status:
VmRSS, split into RssAnon (the process's own memory: heap, stack) and RssShmem (PostgreSQL's shared memory, mostly the
shared buffers this process has touched), and Pss from /proc/<pid>/smaps_rollup (shared pages divided among the
processes mapping them).

  proc_stats.py --postmaster PID --match REGEX --interval 1 [--seconds 60] [--csv FILE] --prefix KEY --summary FILE
  proc_stats.py --postmaster PID --total-ticks

--total-ticks prints the CPU ticks the whole cluster has used so far: the postmaster's own and those of the children it
has reaped (cutime + cstime), plus those of its living children. The difference of two readings is the server's CPU
time between them, short-lived processes included.
"""
import argparse
import os
import re
import signal
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")
stop = False


def on_term(signum, frame):
    global stop
    stop = True


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name, or None once the process is gone."""
    raw = read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    text = raw.decode(errors="replace")
    return text[text.rindex(")") + 2:].split()


def children(postmaster, pattern):
    """pid -> command line of the postmaster's children that match."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = stat_fields(entry)
        if fields is None or fields[1] != str(postmaster):  # fields[1] is the parent pid
            continue
        cmd = read(f"/proc/{entry}/cmdline")
        if cmd is None:
            continue
        cmd = cmd.replace(b"\0", b" ").decode(errors="replace").strip()
        if pattern.search(cmd):
            found[int(entry)] = cmd
    return found


def cpu_ticks(pid):
    fields = stat_fields(pid)
    return None if fields is None else int(fields[11]) + int(fields[12])  # utime, stime


def start_ticks(pid):
    fields = stat_fields(pid)
    return None if fields is None else int(fields[19])  # starttime, ticks after boot


def memory_kb(pid):
    """(rss, pss, anon, shmem) in kB; pss is None without smaps_rollup."""
    status = read(f"/proc/{pid}/status")
    if status is None:
        return None
    values = {k.decode(): int(v) for k, v in re.findall(rb"^(\w+):\s+(\d+) kB", status, re.M)}
    pss = None
    rollup = read(f"/proc/{pid}/smaps_rollup")
    if rollup:
        m = re.search(rb"^Pss:\s+(\d+) kB", rollup, re.M)
        pss = int(m.group(1)) if m else None
    return values.get("VmRSS", 0), pss, values.get("RssAnon", 0), values.get("RssShmem", 0)


def total_ticks(postmaster):
    fields = stat_fields(postmaster)
    total = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            f = stat_fields(entry)
            if f is not None and f[1] == str(postmaster):
                total += int(f[11]) + int(f[12])
    return total


def uptime_ticks():
    return float(read("/proc/uptime").split()[0]) * TICKS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postmaster", type=int, required=True)
    ap.add_argument("--total-ticks", action="store_true")
    ap.add_argument("--match")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=3600.0)
    ap.add_argument("--csv")
    ap.add_argument("--prefix")
    ap.add_argument("--summary")
    args = ap.parse_args()
    if args.total_ticks:
        print(total_ticks(args.postmaster))
        return 0
    pattern = re.compile(args.match)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    began = time.monotonic()
    began_ticks = uptime_ticks()
    first = {}     # pid -> CPU ticks when first seen (0 for a process born inside the window)
    last = {}      # pid -> CPU ticks when last seen
    names = {}
    samples = []   # (elapsed, {pid: (rss, pss, anon, shmem)})
    csv = open(args.csv, "w") if args.csv else None
    if csv:
        csv.write("elapsed_s,pid,rss_kb,pss_kb,anon_kb,shmem_kb,cpu_ticks,name\n")

    while True:
        now = time.monotonic() - began
        seen = {}
        for pid, cmd in children(args.postmaster, pattern).items():
            ticks = cpu_ticks(pid)
            mem = memory_kb(pid)
            if ticks is None or mem is None:
                continue
            if pid not in first:
                born = start_ticks(pid)
                first[pid] = 0 if (born is not None and born > began_ticks) else ticks
            last[pid] = ticks
            names[pid] = cmd
            seen[pid] = mem
            if csv:
                rss, pss, anon, shmem = mem
                csv.write(f"{now:.1f},{pid},{rss},{pss or ''},{anon},{shmem},{ticks},{cmd}\n")
        if csv:
            csv.flush()
        samples.append((now, seen))
        if stop or now >= args.seconds:
            break
        next_at = began + (len(samples)) * args.interval
        while not stop and time.monotonic() < next_at:
            time.sleep(min(0.2, max(0.0, next_at - time.monotonic())))
        if stop:
            # one last sample at the moment we are told to stop
            continue

    elapsed = time.monotonic() - began
    cpu_s = sum(last[p] - first[p] for p in last) / TICKS
    end = samples[-1][1]
    start = samples[0][1]

    def total(sample, i):
        values = [m[i] for m in sample.values() if m[i] is not None]
        return sum(values) if values else 0

    out = {
        "seconds": f"{elapsed:.1f}",
        "cpu_seconds": f"{cpu_s:.2f}",
        "cpu_pct_core": f"{100.0 * cpu_s / elapsed:.3f}" if elapsed > 0 else "0",
        "procs_start": len(start),
        "procs_end": len(end),
        "procs_seen": len(last),
        "rss_kb_end": total(end, 0),
        "pss_kb_end": total(end, 1),
        "anon_kb_end": total(end, 2),
        "shmem_kb_end": total(end, 3),
        "rss_kb_max_proc": max((m[0] for s in samples for m in s[1].values()), default=0),
        "anon_kb_max_proc": max((m[2] for s in samples for m in s[1].values()), default=0),
    }
    with open(args.summary, "a") as f:
        for k, v in out.items():
            f.write(f"{args.prefix}_{k}={v}\n")
    if csv:
        csv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
