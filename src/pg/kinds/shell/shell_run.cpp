// Shell commands in flight (see shell_run.hpp). Nothing between fork and the command's release calls PostgreSQL but
// to read the clock; outcomes are built in the run's memory context once it is over.
#include "pg/kinds/shell/shell_run.hpp"

#include "pg/kinds/shell/shell_check.hpp"

#include <cerrno>
#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern "C" {
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace {

constexpr int kDrainMs = 1000;    // after the command exits, how long what it left may hold its output
constexpr int kReadsPerAdvance = 16;

struct ShellRun {
    AsyncRun base;            // first: an AsyncRun * is a ShellRun *
    ShellCommand *shell;
    pid_t pid;
    int pidfd, input_fd, output_fd;
    const char *input;
    size_t input_left;
    bool exited, stopping;
    int status;
    TimestampTz kill_at;      // TERM was sent: KILL then
    TimestampTz give_up_at;   // the command exited: stop reading its output then
    ShellRun *next;
};

ShellRun *runs = NULL;

// The process groups of the commands running now, for the SIGQUIT handler (an immediate stop or a crash of another
// process ends this worker at once, without its exit hooks): it kills them before the worker goes.
volatile pid_t groups[1024];

void remember_group(pid_t pid, bool running) {
    for (volatile pid_t &g : groups)
        if (running ? g == 0 : g == pid) {
            g = running ? pid : 0;
            return;
        }
}

void on_quit(SIGNAL_ARGS) {
    for (volatile pid_t &g : groups)
        if (g > 0)
            kill(-g, SIGKILL);
    SignalHandlerForCrashExit(postgres_signal_arg);
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

// Starts /bin/sh -c command with posix_spawn (libc's vfork-like clone: a worker's fork copies its page tables, which
// costs milliseconds): in a session and process group of its own, the pipes as 0/1/2 and nothing else open, every
// signal at its default and none blocked, in the shell directory. Returns the child's pid, or -1 with errno.
pid_t spawn_command(const ShellCommand *shell, int input, int output) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_adddup2(&actions, input, 0);
    posix_spawn_file_actions_adddup2(&actions, output, 1);
    posix_spawn_file_actions_adddup2(&actions, output, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawn_file_actions_addchdir_np(&actions, shell->directory);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)shell->command, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, shell->environment);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

void close_fd(int *fd) {
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

// Reaps, without waiting, whatever the commands left to this process (it is their subreaper): processes killed with
// their group, and those that had left it, once they end. A command's own shell reaped here is marked exited.
void reap_descendants(void) {
    int status;
    pid_t done;
    while ((done = waitpid(-1, &status, WNOHANG)) > 0)
        for (ShellRun *run = runs; run; run = run->next)
            if (run->pid == done && !run->exited) {
                run->exited = true;
                run->status = status;
            }
}

// The run is over: its outcome, in its memory context.
void finish(ShellRun *run) {
    MemoryContext caller = MemoryContextSwitchTo(run->base.context);
    RunOutcome *out = &run->base.outcome;
    *out = {false, NULL, run_output_result(&run->shell->output, true)};
    int status = run->status;
    if (run->stopping && run->kill_at != 0)
        out->error = pstrdup("57014: the command was stopped");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        out->succeeded = true;
    else if (WIFEXITED(status))
        out->error = psprintf("58000: exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        out->error = psprintf("58000: killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        out->error = pstrdup("58000: the command ended in an unknown way");
    run->base.done = true;
    MemoryContextSwitchTo(caller);
}

void advance(ShellRun *run, TimestampTz now) {
    if (run->stopping && run->kill_at != 0 && now >= run->kill_at) {
        kill(-run->pid, SIGKILL);
        run->kill_at = 0;
    }
    char chunk[65536];
    for (int i = 0; i < kReadsPerAdvance && run->output_fd >= 0; i++) {
        ssize_t got = read(run->output_fd, chunk, sizeof chunk);
        if (got > 0)
            append_run_output(&run->shell->output, chunk, (size_t)got);
        else if (got == 0 || (errno != EAGAIN && errno != EINTR))
            close_fd(&run->output_fd);
        else
            break;
    }
    if (run->input_fd >= 0) {
        ssize_t put = write(run->input_fd, run->input, run->input_left);
        if (put > 0) {
            run->input += put;
            run->input_left -= (size_t)put;
        }
        if (run->input_left == 0 || (put < 0 && errno != EAGAIN && errno != EINTR))
            close_fd(&run->input_fd);
    }
    if (!run->exited && waitpid(run->pid, &run->status, WNOHANG) == run->pid)
        run->exited = true;
    if (run->exited && run->give_up_at == 0) {
        // The command is gone; whatever it left in its group would hold the output: end it, read what is left.
        kill(-run->pid, SIGKILL);
        run->give_up_at = TimestampTzPlusMilliseconds(now, kDrainMs);
    }
    if (run->exited && run->output_fd >= 0 && now >= run->give_up_at)
        close_fd(&run->output_fd);
    if (run->exited && run->output_fd < 0) {
        close_fd(&run->input_fd);
        close_fd(&run->pidfd);
        finish(run);
    }
}

}  // namespace

AsyncRun *start_shell_run(const ClaimedTask *, const RunPlan *plan, MemoryContext context, RunOutcome *failure) {
    ShellCommand *shell = (ShellCommand *)plan->detail;
    for (char **e = shell->environment; *e; e++)
        if (strcmp(*e, "CHRONOS_RUN_ID=") == 0)
            *e = MemoryContextStrdup(context, psprintf("CHRONOS_RUN_ID=" INT64_FORMAT, plan->run_id));
    // Orphans of a command (a background process whose parent exited) come to this process, not to init, so that it
    // reaps them: no zombie outlives a run.
    static bool subreaper = false;
    if (!subreaper) {
        subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
        pqsignal(SIGQUIT, on_quit);
    }
    ShellRun *run = (ShellRun *)MemoryContextAllocZero(context, sizeof(ShellRun));
    run->base.context = context;
    run->shell = shell;
    run->pidfd = run->input_fd = run->output_fd = -1;
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) {
        *failure = {false, psprintf("58000: could not create a pipe: %m"), NULL};
        return NULL;
    }
    if (pipe2(from_child, O_CLOEXEC) != 0) {
        *failure = {false, psprintf("58000: could not create a pipe: %m"), NULL};
        close(to_child[0]);
        close(to_child[1]);
        return NULL;
    }
    pid_t pid = spawn_command(shell, to_child[0], from_child[1]);
    int fork_errno = errno;
    close(to_child[0]);
    close(from_child[1]);
    if (pid < 0) {
        close(to_child[1]);
        close(from_child[0]);
        *failure = {false, psprintf("58000: could not start /bin/sh in \"%s\": %s", shell->directory,
                                    strerror(fork_errno)), NULL};
        return NULL;
    }
    run->pid = pid;
    remember_group(pid, true);
    run->pidfd = open_pidfd(pid);
    run->input_fd = to_child[1];
    run->output_fd = from_child[0];
    fcntl(run->input_fd, F_SETFL, fcntl(run->input_fd, F_GETFL) | O_NONBLOCK);
    fcntl(run->output_fd, F_SETFL, fcntl(run->output_fd, F_GETFL) | O_NONBLOCK);
    run->input = shell->input;
    run->input_left = shell->input ? strlen(shell->input) : 0;
    if (run->input_left == 0)
        close_fd(&run->input_fd);
    run->next = runs;
    runs = run;
    return &run->base;
}

void stop_shell_run(AsyncRun *base) {
    ShellRun *run = (ShellRun *)base;
    if (run->stopping || run->base.done)
        return;
    run->stopping = true;
    kill(-run->pid, SIGTERM);
    run->kill_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kKillGraceMs);
}

void release_shell_run(AsyncRun *base) {
    ShellRun *run = (ShellRun *)base;
    if (run->pid > 0) {
        kill(-run->pid, SIGKILL);
        remember_group(run->pid, false);
        if (!run->exited)
            (void)waitpid(run->pid, &run->status, 0);
        run->exited = true;
    }
    close_fd(&run->input_fd);
    close_fd(&run->output_fd);
    close_fd(&run->pidfd);
    for (ShellRun **p = &runs; *p; p = &(*p)->next)
        if (*p == run) {
            *p = run->next;
            break;
        }
    reap_descendants();
    // The last command is gone: what was killed with it is reaped now (within 100 ms), not at the next command.
    for (int i = 0; runs == NULL && i < 20 && waitpid(-1, NULL, WNOHANG) >= 0; i++)
        pg_usleep(5000);
}

int shell_wait_fds(struct curl_waitfd *out, int max) {
    int n = 0;
    for (ShellRun *run = runs; run && n + 3 <= max; run = run->next) {
        if (run->base.done)
            continue;
        if (run->output_fd >= 0)
            out[n++] = {run->output_fd, CURL_WAIT_POLLIN, 0};
        if (run->input_fd >= 0)
            out[n++] = {run->input_fd, CURL_WAIT_POLLOUT, 0};
        if (run->pidfd >= 0 && !run->exited)
            out[n++] = {run->pidfd, CURL_WAIT_POLLIN, 0};
    }
    return n;
}

TimestampTz advance_shell_runs(void) {
    if (runs == NULL)
        return DT_NOEND;
    TimestampTz now = GetCurrentTimestamp();
    reap_descendants();
    TimestampTz next = DT_NOEND;
    for (ShellRun *run = runs; run; run = run->next) {
        if (run->base.done)
            continue;
        advance(run, now);
        if (run->base.done)
            continue;
        if (run->kill_at != 0)
            next = Min(next, run->kill_at);
        if (run->give_up_at != 0)
            next = Min(next, run->give_up_at);
        if (run->pidfd < 0)
            next = Min(next, TimestampTzPlusMilliseconds(now, 50));  // no pidfd: look at the child every 50 ms
    }
    return next;
}
