"""The Markdown of docs/benchmarks/README.md, from the results of bench/run.sh (used by bench/report.py)."""


def render(R, targets, memory, runs, plots):
    def v(key, default="–"):
        return R.get(key, default) or default

    def f(key, digits=0, unit=""):
        try:
            return f"{float(R[key]):,.{digits}f}{unit}"
        except (KeyError, ValueError):
            return "–"

    def mb(key, digits=1):
        try:
            return f"{float(R[key]) / 1024:,.{digits}f}"
        except (KeyError, ValueError):
            return "–"

    def ratio(a, b, digits=1, scale=1.0):
        try:
            return f"{scale * float(R[a]) / float(R[b]):,.{digits}f}"
        except (KeyError, ValueError, ZeroDivisionError):
            return "–"

    mode = v("mode")
    cmd = "bench/run.sh" + ("" if mode == "default" else f" --{mode}")
    minutes, seconds = divmod(int(float(v("total_seconds", "0"))), 60)
    w = R.get("max_workers", "4")
    cores = R.get("machine_nproc", "?")
    lines = []
    add = lines.append

    add("# Benchmarks\n")
    add(f"pg_chronos against pg_cron {v('pg_cron_version').split()[0]}, the scheduler most PostgreSQL installations "
        "use, and against pgbench running the same SQL with no scheduler at all. Each gets its own throwaway cluster with "
        "the same settings, and they take turns: pg_cron's minute boundaries fall inside pg_chronos's idle windows, "
        "whose figures (the CPU time and memory of pg_chronos's own processes) the other cluster does not change.\n")
    add(f"The figures below come from `{cmd}` on {v('run_date')}; it took {minutes} min {seconds:02d} s, build "
        "included. They are one run on a small shared machine: other processes' CPU use during each scenario is "
        "given beside it.\n")

    add("## How to reproduce\n")
    add("```sh\n"
        "bench/run.sh            # the suite, about 20 minutes on 2 cores; rewrites this page and its plots\n"
        "bench/run.sh --quick    # shorter windows, under 10 minutes\n"
        "bench/run.sh --long     # longer windows (a 10-minute sustained run), about 30 minutes\n"
        "bench/run.sh --smoke    # one cluster, a 200-task burst, one line of output (scripts/test.sh runs it)\n"
        "```\n")
    add("It installs what it needs with `apt-get` (`postgresql-15`, `postgresql-15-cron`, `gnuplot-nox`, `python3`, the "
        "build dependencies), builds and installs pg_chronos, starts two clusters as the `postgres` user in a temporary "
        "directory on private Unix sockets (`listen_addresses = ''`), runs the scenarios, prints a ratio table, and "
        "stops and removes the clusters on exit. With `BENCH_SAVE_DATA=DIR` it keeps the raw samples, and "
        "`python3 bench/report.py DIR docs/benchmarks` renders this page again from them.\n")

    add("## Machine and settings\n")
    add("| | |\n|---|---|")
    add(f"| CPU | {v('machine_cpu')}, {cores} cores (`nproc`) |")
    add(f"| memory | {v('machine_memory_gib')} GiB |")
    add(f"| system | {v('machine_os')}, Linux {v('machine_kernel')} |")
    add(f"| PostgreSQL | {v('pg_version')} |")
    add(f"| pg_chronos | {v('chronos_version')} (this tree) |")
    add(f"| pg_cron | {v('pg_cron_version')} |")
    add(f"| load average at the start / end | {v('machine_load_start')} / {v('machine_load_end')} |")
    add("")
    add(f"Both clusters: `shared_buffers = {v('setting_shared_buffers')}`, `max_worker_processes = "
        f"{v('setting_max_worker_processes')}`, `fsync = {v('setting_fsync')}` and `synchronous_commit = "
        f"{v('setting_synchronous_commit')}` (the defaults), `timezone = 'UTC'`. pg_chronos: `chronos.max_workers = "
        f"{v('setting_chronos_max_workers')}`. pg_cron: `cron.use_background_workers = "
        f"{v('setting_cron_use_background_workers')}`, `cron.max_running_jobs = {v('setting_cron_max_running_jobs')}`, "
        f"`cron.database_name = 'bench'`. pgbench: `-c {w} -j 2`, the same concurrency. Every task, job and pgbench "
        "transaction runs `INSERT INTO sink VALUES (<n>, clock_timestamp())`, except in the sustained scenario.\n")

    add("## Targets\n")
    add("| target | measured | result |\n|---|---|---|")
    for t, m, r in targets:
        add(f"| {t} | {m} | **{r}** |")
    add("")

    add("## 1. Burst drain\n")
    add("N tasks due at the same instant T: `INSERT INTO chronos.tasks (command, start_time) SELECT 'INSERT INTO sink "
        "VALUES (' || g || ', clock_timestamp())', T FROM generate_series(1, N) g`, committed about 2 s before T; the "
        "time runs from T to the last row's `clock_timestamp()`. pg_cron: N jobs scheduled for one minute "
        "(`M H * * *`, so that they fire once), timed from the minute boundary. pgbench: the same INSERT, "
        f"`-n -c {w} -j 2 -t N/{w}`, its own tps (without connection time). Server CPU is the CPU time of the whole "
        "cluster (every PostgreSQL process, short-lived ones included) over the burst, per run. The driver polls "
        "`count(*)` of the table every 0.25 s through one session opened before T. The 1,000-task bursts of "
        "pg_chronos and pgbench run first right after a `CHECKPOINT`, for the bookkeeping figures of scenario 5 "
        "(their rates are given there), then several times without it, since one burst lasts about a fifth of a "
        "second and a single slow WAL flush on this machine's storage moves it by a third: this table has the median "
        f"(pg_chronos runs/s per trial: {v('burst_chronos_1000_trials')}; pgbench tps: "
        f"{v('burst_pgbench_1000_trials')}); its other columns are the last trial's.\n")
    add("| runs | pg_chronos runs/s | first / last row after T | executors | server CPU per run | pg_cron jobs/s | "
        "pg_cron server CPU per job | pgbench tps | pgbench server CPU per transaction | ÷ pg_cron | ÷ pgbench |")
    add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (1000, 10000):
        capped = R.get(f"burst_cron_{n}_capped", "0")
        cut = f" ({v(f'burst_cron_{n}_done')} of {n:,} in {capped} s)" if capped not in ("0", "") else ""
        add(f"| {n:,} | {f(f'burst_chronos_{n}_rate')} | {f(f'burst_chronos_{n}_first_ms', 1)} ms / "
            f"{f(f'burst_chronos_{n}_last_s', 2)} s | {v(f'burst_chronos_{n}_executors')} | "
            f"{f(f'burst_chronos_{n}_cpu_ms_per_run', 2)} ms | {f(f'burst_cron_{n}_rate', 1)}{cut} | "
            f"{f(f'burst_cron_{n}_cpu_ms_per_run', 2)} ms | {f(f'burst_pgbench_{n}_tps')} | "
            f"{f(f'burst_pgbench_{n}_cpu_ms_per_run', 2)} ms | "
            f"{ratio(f'burst_chronos_{n}_rate', f'burst_cron_{n}_rate')}× | "
            f"{ratio(f'burst_chronos_{n}_rate', f'burst_pgbench_{n}_tps', 0, 100)} % |")
    add("")
    add(f"Other processes on the machine used {f('burst_other_load_cores', 2)} of its {cores} cores during the "
        "pg_chronos and pgbench bursts.\n")
    if "burst_progress.png" in plots:
        add("![rows committed over time in the bursts](burst_progress.png)\n")
    cap = R.get("burst_cron_10000_capped", "0")
    if cap not in ("0", ""):
        add(f"In this mode pg_cron's 10,000-job burst is cut off {cap} s after the boundary (its jobs are unscheduled); "
            "its rate counts the jobs that ran by then. The default mode lets it finish.\n")

    add("## 2. Start lateness\n")
    add(f"For {v('lateness_seconds')} s, pgbench (`-R {v('lateness_rate')}`, one client, Poisson arrivals) inserts once "
        f"tasks due 1–2000 ms later (uniformly random), beside {v('lateness_loops')} loop tasks `* * * * * *`. Lateness "
        "is `started_at - scheduled_for` of every run in `chronos.runs` (the `lateness` column of `chronos.history`). "
        "Meanwhile a plain process (`bench/timer_floor.py`) sleeps until deadlines drawn the same way and measures how "
        "late it wakes: the floor the machine itself sets. Both clusters run these windows with `synchronous_commit = "
        "off`, so that the figures are the schedulers' and not the storage's: an executor whose commit waits for a "
        "slow WAL flush cannot start its next run, and `bench/flush_floor.py` (8 kB written and `fdatasync`ed 50 "
        f"times a second beside the window) saw flushes take p50 {f('lateness_flush_p50_ms', 2)} ms, p99.9 "
        f"{f('lateness_flush_p999_ms', 2)} ms, max {f('lateness_flush_max_ms', 1)} ms, {f('lateness_flush_stalls')} "
        "of 50 ms or more. The other scenarios commit synchronously. pg_cron cannot schedule below a minute: "
        f"{v('cron_lateness_jobs')} jobs `* * * * *` through {v('cron_lateness_boundaries')} minute boundaries, "
        "lateness = `start_time - date_trunc('minute', start_time)` from `cron.job_run_details`.\n")
    add("| | runs | p50 | p95 | p99 | max | pg_chronos CPU per run | commits per run | other processes' CPU |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = (("lateness", "pg_chronos, all runs", "lateness"), ("lateness_once", "pg_chronos, once tasks", None),
            ("lateness_loop", "pg_chronos, loop tasks", None),
            ("lateness_floor", "a plain sleeping process, same window", None),
            ("scale_1000", f"pg_chronos, {v('trickle_rate')} tasks/s beside 1,000 tasks", "scale_1000"),
            ("scale_1000000", f"pg_chronos, {v('trickle_rate')} tasks/s beside 1,000,000 tasks", "scale_1000000"),
            ("cron_lateness", "pg_cron, after the minute boundary", None))
    for key, label, load in rows:
        other = f"{f(load + '_other_load_cores', 2)} cores" if load else ""
        cpu = f"{f(load + '_cpu_ms_per_run', 2)} ms" if load else ""
        commits = f(load + "_commits_per_run", 1) if load else ""
        add(f"| {label} | {f(key + '_count')} | {f(key + '_p50_ms', 2)} ms | {f(key + '_p95_ms', 2)} ms | "
            f"{f(key + '_p99_ms', 2)} ms | {f(key + '_max_ms', 2)} ms | {cpu} | {commits} | {other} |")
    add("")
    add("CPU per run is the CPU time of the pg_chronos processes over the window divided by the runs. Commits per run "
        "counts every transaction the executors committed in database `bench` (read from `pg_stat_database` once they "
        "have exited; the driver's and the observers' commits taken out), read-only ones included.")
    add("")
    if "lateness_cdf.png" in plots:
        add("![distribution of start lateness](lateness_cdf.png)\n")

    add("## 3. Scale\n")
    add("The catalog holds N once tasks due a year from now or later (one `INSERT … SELECT generate_series`), then "
        f"{v('trickle_rate')} due tasks/s arrive for {v('trickle_seconds')} s (their lateness is above), then nothing is "
        f"due for at least {v('idle_seconds')} s. CPU is utime + stime (`/proc/<pid>/stat`) of every process whose "
        "command line names pg_chronos (the launcher and the executors); memory is taken at the end of the window from "
        "`/proc/<pid>/status` (VmRSS; RssAnon, the process's own memory; RssShmem, the shared buffers it has touched) "
        "and `/proc/<pid>/smaps_rollup` (Pss, shared pages divided among the processes that map them). pg_cron keeps "
        "every job in memory; it is measured the same way holding 10,000 jobs that are not due.\n")
    add("| | insert | catalog size | idle CPU, % of one core | processes | RSS, MB | own (RssAnon), MB | "
        "shared (RssShmem), MB | Pss, MB |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (1000, 1000000):
        k = f"chronos_idle_{n}"
        add(f"| pg_chronos, {n:,} tasks | {f(f'scale_{n}_insert_s', 2)} s | {f(f'scale_{n}_tasks_mb', 1)} MB | "
            f"{f(k + '_cpu_pct_core', 3)} over {f(k + '_seconds')} s | {v(k + '_procs_end')} | {mb(k + '_rss_kb_end')} | "
            f"{mb(k + '_anon_kb_end')} | {mb(k + '_shmem_kb_end')} | {mb(k + '_pss_kb_end')} |")
    k = "cron_idle_10000"
    add(f"| pg_cron, 10,000 jobs | | | {f(k + '_cpu_pct_core', 3)} over {f(k + '_seconds')} s | {v(k + '_procs_end')} | "
        f"{mb(k + '_rss_kb_end')} | {mb(k + '_anon_kb_end')} | {mb(k + '_shmem_kb_end')} | {mb(k + '_pss_kb_end')} |")
    add("")

    add("## 4. Sustained load\n")
    retention = v("sustained_history_retention", "")
    add(f"{v('sustained_tasks')} loop tasks `@every 1s` whose start times are spread over one second, so that "
        f"{v('sustained_tasks')} runs a second arrive evenly, for {v('sustained_seconds')} s"
        + (f", with `chronos.history_retention = '{retention}'`" if retention else "")
        + ". Each run updates its own row of a table of as many rows (`UPDATE steady SET runs = runs + 1, at = "
        "clock_timestamp() WHERE id = <n>`), so that what the tasks do does not grow the database. The memory of every pg_chronos process is sampled every 5 s; every 10 s the size of `chronos.runs` is read "
        "and its new rows are copied aside (table `kept_runs`, before the retention deletes them) for the lateness.\n")
    add(f"Runs: {f('sustained_runs_kept')} ({f('sustained_runs_per_s', 1)} a second), {f('sustained_failed')} failed, "
        f"{v('sustained_executors')} executors; lateness p50 {f('sustained_p50_ms', 2)} ms, p95 "
        f"{f('sustained_p95_ms', 2)} ms, p99 {f('sustained_p99_ms', 2)} ms, max {f('sustained_max_ms', 2)} ms. CPU: "
        f"{f('sustained_watch_cpu_pct_core', 1)} % of one core in the pg_chronos processes, "
        f"{f('sustained_cluster_cpu_ms_per_run', 2)} ms of server CPU per run. Other processes on the machine used "
        f"{f('sustained_other_load_cores', 2)} cores. Runs commit synchronously here: meanwhile the storage "
        f"flushed 8 kB in p50 {f('sustained_flush_p50_ms', 2)} ms, p99.9 {f('sustained_flush_p999_ms', 2)} ms, max "
        f"{f('sustained_flush_max_ms', 1)} ms ({f('sustained_flush_stalls')} flushes of 50 ms or more; "
        "`bench/flush_floor.py`), and a run cannot start while every executor waits for its commit's flush.\n")
    if memory:
        add("| process | RSS after 30 s → end, MB | own (RssAnon), MB | shared buffers touched (RssShmem), MB |")
        add("|---|---:|---:|---:|")
        for m in memory:
            add(f"| {m['name']} (pid {m['pid']}) | {m['rss0'] / 1024:.1f} → {m['rss1'] / 1024:.1f} | "
                f"{m['anon0'] / 1024:.1f} → {m['anon1'] / 1024:.1f} | {m['shmem0'] / 1024:.1f} → {m['shmem1'] / 1024:.1f} |")
        add("")
    if runs:
        add(f"`chronos.runs`: at most {runs['max_rows']:,} rows ({runs['max_mb']:.1f} MB) during the run, "
            f"{runs['rows']:,} rows ({runs['mb']:.1f} MB) at the end.\n")
    for p, alt in (("sustained_memory.png", "memory of each pg_chronos process over time"),
                   ("sustained_lateness.png", "lateness per 10 s window and rows in chronos.runs")):
        if p in plots:
            add(f"![{alt}]({p})\n")

    add("## 5. Bookkeeping cost\n")
    add("Measured over the 1,000-run bursts of scenario 1, after a `CHECKPOINT`: commits counted by "
        "`pg_stat_database.xact_commit` of database `bench` (read after `pg_stat_clear_snapshot()`, once the "
        "scheduler's processes have exited or the cluster has restarted, so that they have reported their counts; the "
        "observing sessions' own commits are taken out), then the WAL between two `pg_current_wal_lsn()` readings: its "
        "size (`pg_wal_lsn_diff`), its commit records and full-page images (`pg_waldump --stats`). Everything is "
        "divided by the number of runs. pgbench is the INSERT alone.\n")
    add(f"Rates of these bursts, right after the `CHECKPOINT`: pg_chronos {f('burst_chronos_1000_checkpointed_rate')} "
        f"runs/s, pgbench {f('burst_pgbench_1000_checkpointed_tps')} tps "
        f"({ratio('burst_chronos_1000_checkpointed_rate', 'burst_pgbench_1000_checkpointed_tps', 0, 100)} %). The first "
        "change to each page after a checkpoint writes the whole page to the WAL: pg_chronos updates task rows "
        "written before it, pgbench only appends to a table emptied after it.\n")
    add("| per run | write transactions (WAL commit records) | commits (pg_stat_database) | of those, seen before the "
        "processes exited | WAL bytes | of which full-page images |\n|---|---:|---:|---:|---:|---:|")
    for key, label in (("bookkeeping_chronos", "pg_chronos"), ("bookkeeping_cron", "pg_cron"),
                       ("bookkeeping_pgbench", "pgbench (no scheduler)")):
        add(f"| {label} | {f(key + '_commit_records_per_run', 2)} | {f(key + '_commits_per_run', 2)} | "
            f"{f(key + '_commits_seen_before_exit', 2)} | {f(key + '_wal_bytes_per_run')} | "
            f"{f(key + '_wal_fpi_bytes_per_run')} |")
    add("")

    if v("databases_chronos_runs", ""):
        add("## 6. Many databases\n")
        add(f"Both clusters restart with `max_worker_processes = {v('databases_worker_processes')}`, and "
            f"{v('databases')} databases each get one task due at the same instants as the others, so that the "
            "databases take turns for the worker slots. pg_chronos: a loop task `@every 5s` per database for "
            f"{v('databases_seconds')} s; the delay is `started_at - scheduled_for`. pg_cron 1.4 schedules by the "
            "minute: a job `* * * * *` per database (`cron.schedule_in_database`, run by its background workers) for "
            f"{v('databases_cron_boundaries')} minute boundar{'y' if v('databases_cron_boundaries') == '1' else 'ies'}; "
            "the delay is the start after the minute.\n")
        add("| | runs / due | starting delay p50, ms | p95, ms | max, ms |")
        add("|---|---:|---:|---:|---:|")
        for key, label in (("databases_chronos", "pg_chronos"), ("databases_cron", "pg_cron")):
            add(f"| {label} | {f(key + '_runs')} / {f(key + '_slots')} | {f(key + '_delay_p50_ms')} | "
                f"{f(key + '_delay_p95_ms')} | {f(key + '_delay_max_ms')} |")
        add("")

    missed = R.get("_open_targets", "")
    if missed:
        add("## Targets not met, and what would close them\n")
        add(missed)
        add("")

    notes = R.get("_notes", "")
    if notes:
        add("## Observations\n")
        add(notes)
    return "\n".join(lines) + "\n"
