#!/usr/bin/env python3
"""Turns the results of bench/run.sh into the ratio table (stdout), docs/benchmarks/README.md and its plots.

  report.py WORK_DIR OUT_DIR

WORK_DIR holds results.txt (key=value lines) and data/ (raw samples); OUT_DIR receives README.md and the PNG plots.
The section "Next fire time" of an existing OUT_DIR/README.md is kept as it is. The figures and targets are computed
here, the plots too (gnuplot); the page's text is in report_text.py.
"""
import csv
import os
import re
import subprocess
import sys
from collections import defaultdict

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_text  # noqa: E402

work, out = sys.argv[1], sys.argv[2]
data = os.path.join(work, "data")
plots = os.path.join(work, "plots")
os.makedirs(plots, exist_ok=True)

R = {}
with open(os.path.join(work, "results.txt")) as f:
    for line in f:
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            R[k] = v


def num(key, default=None):
    try:
        return float(R[key])
    except (KeyError, ValueError):
        return default


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(x, digits=0, unit=""):
    return "–" if x is None else f"{x:,.{digits}f}{unit}"


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


# ---------------------------------------------------------------- derived figures

def sustained_memory():
    """Per process alive through the sustained run: memory after the warm-up (30 s) and at the end, in kB."""
    path = os.path.join(data, "sustained_memory.csv")
    if not os.path.exists(path):
        return []
    rows = defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f):
            rows[(r["pid"], r["name"])].append(r)
    last_t = max(float(r["elapsed_s"]) for rs in rows.values() for r in rs)
    result = []
    for (pid, name), rs in sorted(rows.items(), key=lambda kv: kv[0][1]):
        warm = [r for r in rs if float(r["elapsed_s"]) >= 30.0]
        if not warm or float(rs[-1]["elapsed_s"]) < last_t - 0.5:
            continue
        a, b = warm[0], rs[-1]
        result.append({"pid": pid, "name": name.replace("postgres: ", ""),
                       "rss0": int(a["rss_kb"]), "rss1": int(b["rss_kb"]),
                       "anon0": int(a["anon_kb"]), "anon1": int(b["anon_kb"]),
                       "shmem0": int(a["shmem_kb"]), "shmem1": int(b["shmem_kb"])})
    return result


def runs_growth():
    path = os.path.join(data, "sustained_runs.csv")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if len(rows) < 2:
        return None
    a, b = rows[0], rows[-1]
    dt = float(b["elapsed_s"]) - float(a["elapsed_s"])
    return {"rows": int(b["runs_rows"]), "mb": int(b["runs_bytes"]) / 1048576.0,
            "max_rows": max(int(r["runs_rows"]) for r in rows),
            "max_mb": max(int(r["runs_bytes"]) for r in rows) / 1048576.0,
            "rows_per_s": (int(b["runs_rows"]) - int(a["runs_rows"])) / dt,
            "mb_per_hour": (int(b["runs_bytes"]) - int(a["runs_bytes"])) / 1048576.0 / dt * 3600.0}


MEM = sustained_memory()
RUNS = runs_growth()

# ---------------------------------------------------------------- targets: (target, measured, verdict)

targets = []
for n in (1000, 10000):
    c, p, b = num(f"burst_chronos_{n}_rate"), num(f"burst_cron_{n}_rate"), num(f"burst_pgbench_{n}_tps")
    capped, done = num(f"burst_cron_{n}_capped", 0), num(f"burst_cron_{n}_done")
    r = ratio(c, p)
    cut = f"; pg_cron stopped after {capped:.0f} s with {done:,.0f} of {n:,} run" if capped else ""
    targets.append((f"burst of {n:,} tasks: ≥ 20× pg_cron's jobs/s",
                    f"{fmt(r, 1)}× ({fmt(c)} vs {fmt(p, 1)} a second{cut})", verdict(None if r is None else r >= 20)))
    r = ratio(c, b)
    targets.append((f"burst of {n:,} tasks: ≥ 50 % of pgbench's tps at -c {R.get('max_workers', '4')}",
                    f"{fmt(None if r is None else 100 * r)} % ({fmt(c)} vs {fmt(b)} a second)",
                    verdict(None if r is None else r >= 0.5)))

load = f"{R.get('lateness_rate', '100')} once tasks/s + {R.get('lateness_loops', '10')} loop tasks"
for pct, limit in (("p50", 2), ("p99", 5)):
    x = num(f"lateness_{pct}_ms")
    floor = num(f"lateness_floor_{pct}_ms")
    targets.append((f"start lateness {pct} ≤ {limit} ms ({load})",
                    f"{fmt(x, 2, ' ms')} (a plain sleeping process: {fmt(floor, 2, ' ms')}; commits not waiting "
                    f"for the WAL flush, whose max here was {fmt(num('lateness_flush_max_ms'), 1, ' ms')})",
                    verdict(None if x is None else x <= limit)))

cpu = num("chronos_idle_1000000_cpu_pct_core")
targets.append(("1,000,000 tasks: idle CPU < 1 % of one core",
                f"{fmt(cpu, 3, ' %')} over {fmt(num('chronos_idle_1000000_seconds'), 0, ' s')}",
                verdict(None if cpu is None else cpu < 1)))
rss_k, rss_m = num("chronos_idle_1000_rss_kb_end"), num("chronos_idle_1000000_rss_kb_end")
anon_k, anon_m = num("chronos_idle_1000_anon_kb_end"), num("chronos_idle_1000000_anon_kb_end")
growth = None if not rss_k or rss_m is None else 100.0 * (rss_m - rss_k) / rss_k
targets.append(("1,000,000 tasks: RSS within 10 % of the 1,000-task figure",
                f"{fmt(growth, 1, ' %')}: {fmt(rss_m / 1024 if rss_m else None, 1)} vs "
                f"{fmt(rss_k / 1024 if rss_k else None, 1)} MB in {R.get('chronos_idle_1000000_procs_end', '?')} vs "
                f"{R.get('chronos_idle_1000_procs_end', '?')} processes (own memory, RssAnon: "
                f"{fmt(anon_m / 1024 if anon_m else None, 1)} vs {fmt(anon_k / 1024 if anon_k else None, 1)} MB)",
                verdict(None if growth is None else abs(growth) <= 10)))
l50k, l99k = num("scale_1000_p50_ms"), num("scale_1000_p99_ms")
l50m, l99m = num("scale_1000000_p50_ms"), num("scale_1000000_p99_ms")
same = None if None in (l50k, l99k, l50m, l99m) else (l50m <= l50k + 1.0 and l99m <= l99k + 1.0)
targets.append(("1,000,000 tasks: lateness unchanged (p50 and p99 within 1 ms of the 1,000-task figures)",
                f"p50 {fmt(l50m, 2)} vs {fmt(l50k, 2)} ms, p99 {fmt(l99m, 2)} vs {fmt(l99k, 2)} ms", verdict(same)))

if MEM:
    anon_growth = max(m["anon1"] - m["anon0"] for m in MEM)
    rss_growth = max(m["rss1"] - m["rss0"] for m in MEM)
    shmem_growth = max(m["shmem1"] - m["shmem0"] for m in MEM)
    targets.append(("sustained: no memory growth beyond noise (per process, after 30 s of warm-up)",
                    f"own memory (RssAnon) +{anon_growth / 1024:.2f} MB at most; RSS +{rss_growth / 1024:.1f} MB at "
                    f"most, shared buffers touched (RssShmem, bounded by shared_buffers) +{shmem_growth / 1024:.1f} MB "
                    f"at most; {len(MEM)} processes", verdict(anon_growth <= 1024)))
retention_s, rate = num("sustained_history_retention_s"), num("sustained_runs_per_s")
if RUNS and retention_s and rate:
    # The watcher deletes expired runs once a minute, and every second while it finds a full batch of 1,000.
    bound = rate * (retention_s + 60) * 1.1 + 1000
    made = num("sustained_runs_kept", 0)
    targets.append((f"sustained: history bounded (chronos.history_retention = {R.get('sustained_history_retention')})",
                    f"chronos.runs held at most {RUNS['max_rows']:,} rows ({RUNS['max_mb']:.1f} MB) of {made:,.0f} "
                    f"runs made; {RUNS['rows']:,} at the end (bound: {rate:.0f} runs/s × (retention + 60 s) + 10 % "
                    f"= {bound:,.0f})", verdict(RUNS["max_rows"] <= bound)))
elif RUNS:
    targets.append(("sustained: history bounded",
                    f"chronos.runs grew without bound: {RUNS['rows']:,} rows, {RUNS['mb']:.1f} MB after "
                    f"{R.get('sustained_seconds')} s ({RUNS['mb_per_hour']:+,.0f} MB/hour)", "FAIL"))
runs, slots = num("databases_chronos_runs"), num("databases_chronos_slots")
delay = num("databases_chronos_delay_max_ms")
if runs is not None:
    targets.append((f"{R.get('databases', '40')} databases with a task every 5 s, max_worker_processes = "
                    f"{R.get('databases_worker_processes', '8')}: every slot runs, each within about 2 s",
                    f"{runs:,.0f} runs of {fmt(slots)} slots; starting delay p50 "
                    f"{fmt(num('databases_chronos_delay_p50_ms'), 0, ' ms')}, p95 "
                    f"{fmt(num('databases_chronos_delay_p95_ms'), 0, ' ms')}, max {fmt(delay, 0, ' ms')} (pg_cron: "
                    f"{fmt(num('databases_cron_runs'))} runs of {fmt(num('databases_cron_slots'))})",
                    verdict(None if slots is None or delay is None else runs >= slots and delay <= 2000)))
cpr, rec = num("bookkeeping_chronos_commits_per_run"), num("bookkeeping_chronos_commit_records_per_run")
targets.append(("one transaction per transactional run",
                f"{fmt(rec, 3)} write transactions per run (commit records in the WAL); pg_stat_database counts "
                f"{fmt(cpr, 3)} commits per run, read-only look-ups included",
                verdict(None if rec is None else rec <= 1.02)))


# ---------------------------------------------------------------- observations (facts read off the results)

def observations():
    out = []
    w = num("max_workers", 4)
    seen, total = num("bookkeeping_chronos_commits_seen_before_exit"), num("bookkeeping_chronos_commits_per_run")
    if seen is not None and total and seen < 0.5 * total:
        out.append(f"The executors report their cumulative statistics only when they exit: right after the 1,000-task "
                   f"burst, `pg_stat_database.xact_commit` showed {max(seen, 0):.2f} commits per run, and "
                   f"{total:.2f} once the executors had been terminated. The per-table counters autovacuum reads "
                   "(`pg_stat_user_tables` for `chronos.tasks` and `chronos.runs`) lag the same way.")
    if cpr is not None and rec is not None and cpr > rec + 0.05:
        out.append(f"Besides one write transaction per run, the executors commit {cpr - rec:.2f} read-only "
                   "transactions per run during a burst (look-ups that find nothing due, or a task another executor "
                   "took first).")
    for n in (1000, 10000):
        used = num(f"burst_chronos_{n}_executors")
        if used is not None and used < w:
            out.append(f"The {n:,}-task burst was run by {used:.0f} executor{'s' if used != 1 else ''} although "
                       f"`chronos.max_workers` is {w:.0f}.")
    a, b = num("burst_chronos_1000_rate"), num("burst_chronos_10000_rate")
    if a and b and b < 0.8 * a:
        out.append(f"pg_chronos drained the larger burst more slowly: {a:,.0f} tasks/s for 1,000 tasks, {b:,.0f} "
                   "for 10,000.")
    a, b = num("burst_cron_1000_rate"), num("burst_cron_10000_rate")
    if a and b and b < 0.8 * a:
        cap = num("burst_cron_10000_capped", 0)
        out.append(f"pg_cron drained the larger burst more slowly: {a:,.1f} jobs/s for 1,000 jobs, {b:,.1f} for 10,000"
                   + (f" (over the first {cap:.0f} s)." if cap else "."))
    c, p = num("burst_chronos_10000_cpu_ms_per_run"), num("burst_pgbench_10000_cpu_ms_per_run")
    if c and p:
        out.append(f"Server CPU per run in the 10,000 bursts: pg_chronos {c:.2f} ms, pgbench {p:.2f} ms per "
                   f"transaction; pg_cron {fmt(num('burst_cron_1000_cpu_ms_per_run'), 2)} ms per job (1,000 burst).")
    for key, label in (("scale_1000", "beside 1,000 tasks"), ("lateness", "")):
        k, cpu_run = num(key + "_commits_per_run"), num(key + "_cpu_ms_per_run")
        if k is not None and k > 3:
            rate_s = R.get("trickle_rate") if key.startswith("scale") else R.get("lateness_rate")
            burst = num("burst_chronos_10000_cpu_ms_per_run")
            out.append(f"While a task runs, the other executors keep committing transactions that find nothing they can "
                       f"claim: at "
                       f"{rate_s} tasks/s{' ' + label if label else ''}, {k:.0f} commits per run in database `bench`, "
                       f"and {fmt(cpu_run, 2)} ms of CPU in the pg_chronos processes per run "
                       f"({fmt(num(key + '_procs_cpu_pct_core'), 1)} % of one core)"
                       + (f", against {burst:.2f} ms of server CPU per run in the 10,000-task burst." if burst else "."))
            break
    s = num("sustained_cluster_cpu_ms_per_run")
    if s and c and s > 2 * c:
        out.append(f"Runs arriving one by one cost more than runs in a burst: {s:.2f} ms of server CPU per run in "
                   f"the sustained scenario ({fmt(num('sustained_runs_per_s'), 0)} runs/s, "
                   f"{fmt(num('sustained_watch_cpu_pct_core'), 0)} % of one core in the pg_chronos processes) "
                   f"against {c:.2f} ms in the 10,000-task burst.")
    once, loop = num("lateness_once_p99_ms"), num("lateness_loop_p99_ms")
    if once is not None and loop is not None and loop > 2 * once and loop > 2:
        out.append(f"Loop tasks that fall due together (the {R.get('lateness_loops')} `* * * * * *` tasks at each "
                   f"whole second) start later than the spread-out once tasks: p99 {loop:.2f} ms against {once:.2f} ms.")
    chronos_p99, floor_p99 = num("lateness_p99_ms"), num("lateness_floor_p99_ms")
    if chronos_p99 is not None and floor_p99 is not None:
        out.append(f"During the lateness window a plain process sleeping until deadlines drawn the same way woke "
                   f"p50 {fmt(num('lateness_floor_p50_ms'), 2)} ms, p99 {floor_p99:.2f} ms late; other processes on "
                   f"the machine used {fmt(num('lateness_other_load_cores'), 2)} of its "
                   f"{R.get('machine_nproc', '?')} cores meanwhile.")
    return "\n".join("- " + o for o in out) + ("\n" if out else "")


def open_targets():
    """Why a target was not met on this machine, in this run's own figures, and what would close it."""
    out = []
    rate, tps = num("burst_chronos_1000_rate"), num("burst_pgbench_1000_tps")
    cpu, pg_cpu = num("burst_chronos_10000_cpu_ms_per_run"), num("burst_pgbench_10000_cpu_ms_per_run")
    wal, pg_wal = num("bookkeeping_chronos_wal_bytes_per_run"), num("bookkeeping_pgbench_wal_bytes_per_run")
    if rate and tps and rate < 0.5 * tps:
        out.append(
            f"**Burst of 1,000 at {100 * rate / tps:.0f} % of pgbench.** A run is a claim (an index scan that locks "
            f"the row), the command in a subtransaction as its owner, the task row's update and the run row's insert, "
            f"and a commit that waits for the WAL flush: {fmt(cpu, 2)} ms of server CPU per run against "
            f"{fmt(pg_cpu, 2)} ms for pgbench's bare INSERT, and {fmt(wal, 0)} bytes of WAL against {fmt(pg_wal, 0)}. "
            f"The burst is short (about {1000 / rate:.2f} s), so the machine's other work during it weighs in; the "
            f"10,000-task burst reaches {fmt(num('burst_chronos_10000_rate'), 0)} runs/s. What would close it: "
            f"keeping the plans of repeated commands (loop tasks) per owner, and updating fewer indexes per run (the "
            f"task's next_exec_time and status are indexed for the claim, so every run's update is a non-HOT update).")
    p99, floor = num("lateness_p99_ms"), num("lateness_floor_p99_ms")
    if p99 is not None and p99 > 5:
        out.append(
            f"**Lateness p99 {p99:.2f} ms.** The once tasks alone have p99 {fmt(num('lateness_once_p99_ms'), 2)} ms; "
            f"the tail is the {R.get('lateness_loops', 10)} loop tasks due at the same instant every second, run by "
            f"{fmt(num('max_workers', 4), 0)} executors: the last ones wait behind the commits of the first "
            f"(loop tasks p99 {fmt(num('lateness_loop_p99_ms'), 2)} ms). A plain sleeping process has p99 "
            f"{fmt(floor, 2)} ms here. What would close it: a larger chronos.max_workers for tasks due together, or "
            f"cheaper runs (above).")
    return "\n\n".join(out)


R["_notes"] = observations()
R["_open_targets"] = open_targets()


# ---------------------------------------------------------------- ratio table on stdout

def print_table():
    print()
    print(f"pg_chronos benchmark ({R.get('mode')}): {R.get('machine_nproc')} cores, PostgreSQL "
          f"{R.get('pg_version', '?').split()[0]}, pg_cron {R.get('pg_cron_version', '?').split()[0]}, "
          f"{fmt(num('total_seconds'), 0)} s")
    print()
    print(f"{'':36} {'pg_chronos':>12} {'pg_cron':>10} {'pgbench':>10} {'÷ pg_cron':>10} {'÷ pgbench':>10}")
    for n in (1000, 10000):
        c, p, b = num(f"burst_chronos_{n}_rate"), num(f"burst_cron_{n}_rate"), num(f"burst_pgbench_{n}_tps")
        rp, rb = ratio(c, p), ratio(c, b)
        print(f"{'burst ' + format(n, ',') + ' (runs/s)':36} {fmt(c):>12} {fmt(p, 1):>10} {fmt(b):>10} "
              f"{fmt(rp, 1, '×'):>10} {fmt(None if rb is None else 100 * rb, 0, ' %'):>10}")
    for key, label in (("lateness", "lateness p50/p99 ms"), ("scale_1000", "trickle lateness, 1k tasks"),
                       ("scale_1000000", "trickle lateness, 1M tasks")):
        c = f"{fmt(num(key + '_p50_ms'), 2)}/{fmt(num(key + '_p99_ms'), 2)}"
        p = f"{fmt(num('cron_lateness_p50_ms'), 0)}/{fmt(num('cron_lateness_p99_ms'), 0)}" if key == "lateness" else ""
        print(f"{label:36} {c:>12} {p:>10}")
    print(f"{'idle CPU % (1M tasks / 10k jobs)':36} {fmt(num('chronos_idle_1000000_cpu_pct_core'), 3):>12} "
          f"{fmt(num('cron_idle_10000_cpu_pct_core'), 3):>10}")
    print(f"{'idle RSS MB (1M tasks / 10k jobs)':36} {fmt((num('chronos_idle_1000000_rss_kb_end') or 0) / 1024, 1):>12} "
          f"{fmt((num('cron_idle_10000_rss_kb_end') or 0) / 1024, 1):>10}")
    for key, label, digits in (("commit_records_per_run", "write transactions per run", 2),
                               ("commits_per_run", "commits per run (pg_stat_database)", 2),
                               ("wal_bytes_per_run", "WAL bytes per run", 0)):
        print(f"{label:36} {fmt(num('bookkeeping_chronos_' + key), digits):>12} "
              f"{fmt(num('bookkeeping_cron_' + key), digits):>10} {fmt(num('bookkeeping_pgbench_' + key), digits):>10}")
    print()
    width = max(len(t[0]) for t in targets)
    for t, m, v in targets:
        print(f"{v:5} {t:{width}}  {m}")
    print()


# ---------------------------------------------------------------- plots (gnuplot)

def write_columns(name, rows):
    path = os.path.join(plots, name)
    with open(path, "w") as f:
        for r in rows:
            f.write(" ".join(str(x) for x in r) + "\n")
    return path


def read_numbers(name):
    path = os.path.join(data, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [float(x) for x in f.read().split()]


def cumulative(name):
    values = read_numbers(name)
    return write_columns(name + ".cum", [(max(v, 1e-3), i + 1) for i, v in enumerate(values)]) if values else None


def cdf(name):
    values = sorted(read_numbers(name))
    n = len(values)
    return write_columns(name + ".cdf", [(max(v, 1e-3), (i + 1) / n) for i, v in enumerate(values)]) if n else None


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


COMMON = "set terminal pngcairo noenhanced size 900,520 font 'DejaVu Sans,10'\nset grid\nset key top left\n"


def plot_burst():
    lines = []
    for who, title, colour in (("chronos", "pg_chronos", "#1f77b4"), ("cron", "pg_cron", "#d62728"),
                               ("pgbench", "pgbench", "#7f7f7f")):
        for n, dash in ((10000, 1), (1000, 2)):
            path = cumulative(f"burst_{who}_{n}.txt")
            if path:
                lines.append(f"'{path}' using 1:2 with lines lw 2 lc rgb '{colour}' dt {dash} title '{title}, {n:,}'")
    if not lines:
        return None
    gnuplot(COMMON + f"set output '{os.path.join(out, 'burst_progress.png')}'\nset logscale x\n"
            "set xlabel 'seconds after the due instant (pgbench: after its first row), log scale'\n"
            "set ylabel 'rows committed'\nset title 'Burst drain: N runs due at the same instant'\n"
            "plot " + ", ".join(lines) + "\n")
    return "burst_progress.png"


def plot_lateness():
    lines = []
    for name, title, style in (("lateness.txt", "pg_chronos, 100 tasks/s + loop tasks", "lc rgb '#1f77b4' lw 2"),
                               ("scale_1000.txt", "pg_chronos, trickle beside 1,000 tasks", "lc rgb '#2ca02c' lw 2 dt 2"),
                               ("scale_1000000.txt", "pg_chronos, trickle beside 1,000,000 tasks",
                                "lc rgb '#9467bd' lw 2 dt 4"),
                               ("cron_lateness.txt", "pg_cron, after the minute boundary", "lc rgb '#d62728' lw 2")):
        path = cdf(name)
        if path:
            lines.append(f"'{path}' using 1:2 with steps {style} title '{title}'")
    if not lines:
        return None
    gnuplot(COMMON + f"set output '{os.path.join(out, 'lateness_cdf.png')}'\nset logscale x\nset xrange [0.01:*]\n"
            "set yrange [0:1]\nset xlabel 'start lateness, ms (log scale)'\nset ylabel 'fraction of runs'\n"
            "set key bottom right\nset title 'Start lateness: started_at - scheduled_for'\nplot " + ", ".join(lines) + "\n")
    return "lateness_cdf.png"


def plot_memory():
    path = os.path.join(data, "sustained_memory.csv")
    if not os.path.exists(path):
        return None
    per = defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f):
            per[(r["pid"], r["name"].replace("postgres: ", ""))].append(
                (r["elapsed_s"], int(r["rss_kb"]) / 1024.0, int(r["anon_kb"]) / 1024.0))
    lines = []
    for i, ((pid, name), rows) in enumerate(sorted(per.items(), key=lambda kv: kv[0][1])):
        p = write_columns(f"memory_{pid}.dat", rows)
        label = "launcher" if "launcher" in name else "worker"
        lines.append(f"'{p}' using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc {i + 1} title 'RSS, {label} {pid}'")
        lines.append(f"'{p}' using 1:3 with lines lw 1 dt 2 lc {i + 1} title 'own (RssAnon), {label} {pid}'")
    gnuplot(COMMON + f"set output '{os.path.join(out, 'sustained_memory.png')}'\nset xlabel 'seconds'\n"
            "set ylabel 'MB'\nset yrange [0:*]\nset key outside right\n"
            "set title 'Sustained load: memory of each pg_chronos process'\nplot " + ", ".join(lines) + "\n")
    return "sustained_memory.png"


def plot_sustained():
    lat, runs = os.path.join(data, "sustained_lateness.csv"), os.path.join(data, "sustained_runs.csv")
    if not (os.path.exists(lat) and os.path.exists(runs)):
        return None
    gnuplot(COMMON + f"set output '{os.path.join(out, 'sustained_lateness.png')}'\nset datafile separator ','\n"
            "set xlabel 'seconds'\nset ylabel 'start lateness per 10 s window, ms'\n"
            "set y2label 'rows in chronos.runs (thousands)'\nset ytics nomirror\nset y2tics\nset yrange [0:*]\n"
            "set y2range [0:*]\nset title 'Sustained load: lateness, and the history kept'\n"
            f"plot '{lat}' using ($1+5):3 with linespoints lw 2 pt 7 ps 0.6 title 'p50', "
            f"'{lat}' using ($1+5):4 with linespoints lw 2 pt 7 ps 0.6 title 'p99', "
            f"'{runs}' every ::1 using 1:($3/1000) axes x1y2 with lines lw 2 dt 2 lc rgb '#7f7f7f' "
            "title 'rows in chronos.runs'\n")
    return "sustained_lateness.png"


# ---------------------------------------------------------------- README

def kept_section(path, heading):
    """The section starting with `## heading` of an existing README (up to the next level-2 heading)."""
    if not os.path.exists(path):
        return None
    m = re.search(r"^## " + re.escape(heading) + r".*?(?=^## |\Z)", open(path).read(), re.S | re.M)
    return m.group(0).rstrip() + "\n" if m else None


def main():
    print_table()
    made = [p for p in (plot_burst(), plot_lateness(), plot_memory(), plot_sustained()) if p]
    readme = os.path.join(out, "README.md")
    keep = kept_section(readme, "Next fire time")
    text = report_text.render(R, targets, MEM, RUNS, made)
    if keep:
        text += "\n" + keep
    with open(readme, "w") as f:
        f.write(text)
    print(f"wrote {readme} and {len(made)} plots")


main()
