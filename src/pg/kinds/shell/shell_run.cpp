// Running a shell task's command (see shell_run.hpp). The child is watched through descriptors: its output pipe, its
// input pipe and a pidfd, polled with the run's cancel flags every 50 ms. Nothing between fork and the final waitpid
// calls PostgreSQL but to read those flags.
#include "pg/kinds/shell/shell_run.hpp"

#include "pg/kinds/shell/shell_check.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern "C" {
#include "miscadmin.h"
#include "utils/timestamp.h"
}

namespace {

constexpr int kPollMs = 50;

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

// In the child, after fork: its own process group, the pipes as 0/1/2, nothing else open, default signals, exec.
pg_attribute_noreturn() void exec_child(const ShellCommand *shell, int input, int output) {
    setsid();
    dup2(input, 0);
    dup2(output, 1);
    dup2(output, 2);
    closefrom(3);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    if (chdir(shell->directory) != 0) {
        dprintf(2, "pg_chronos: cannot change to directory \"%s\": %s\n", shell->directory, strerror(errno));
        _exit(126);
    }
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)shell->command, NULL};
    execve("/bin/sh", argv, shell->environment);
    dprintf(2, "pg_chronos: cannot run /bin/sh: %s\n", strerror(errno));
    _exit(127);
}

// Reaps whatever the run's commands left to this process (it is their subreaper): processes killed with their group,
// and those that had left it, once they end. Waits at most 100 ms for the ones just killed.
void reap_descendants(void) {
    for (int i = 0; i < 20; i++) {
        int status;
        pid_t done;
        while ((done = waitpid(-1, &status, WNOHANG)) > 0) {
        }
        if (done < 0)
            return;  // no child left
        pg_usleep(5000);
    }
}

void set_nonblocking(int fd) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

void run_shell(const ClaimedTask *, const RunPlan *plan, Oid, bool, RunOutcome *out) {
    ShellCommand *shell = (ShellCommand *)plan->detail;
    for (char **e = shell->environment; *e; e++)
        if (strcmp(*e, "CHRONOS_RUN_ID=") == 0)
            *e = psprintf("CHRONOS_RUN_ID=" INT64_FORMAT, plan->run_id);
    *out = {false, NULL, NULL};
    // Orphans of the command (a background process whose parent exited) come to this process, not to init, so that
    // it reaps them: no zombie outlives a run.
    static bool subreaper = false;
    if (!subreaper)
        subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) {
        out->error = psprintf("58000: could not create a pipe: %m");
        return;
    }
    if (pipe2(from_child, O_CLOEXEC) != 0) {
        out->error = psprintf("58000: could not create a pipe: %m");
        close(to_child[0]);
        close(to_child[1]);
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_child(shell, to_child[0], from_child[1]);
    close(to_child[0]);
    close(from_child[1]);
    if (pid < 0) {
        int fork_errno = errno;
        close(to_child[1]);
        close(from_child[0]);
        out->error = psprintf("58000: could not start /bin/sh: %s", strerror(fork_errno));
        return;
    }
    int pidfd = open_pidfd(pid);
    set_nonblocking(to_child[1]);
    set_nonblocking(from_child[0]);
    const char *input = shell->input;
    size_t input_left = input ? strlen(input) : 0;
    int input_fd = to_child[1];
    if (input_left == 0) {
        close(input_fd);
        input_fd = -1;
    }
    int output_fd = from_child[0];
    bool exited = false, stopping = false, interrupted = false;
    int status = 0;
    TimestampTz kill_at = 0;
    TimestampTz give_up_at = 0;  // a process that left the group may hold the output: stop reading then
    char chunk[65536];
    while (!exited || output_fd >= 0) {
        if (give_up_at != 0 && GetCurrentTimestamp() >= give_up_at && output_fd >= 0) {
            close(output_fd);
            output_fd = -1;
            continue;
        }
        if (!stopping && (QueryCancelPending || ProcDiePending)) {
            stopping = interrupted = true;
            kill(-pid, SIGTERM);
            kill_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kKillGraceMs);
        }
        if (stopping && kill_at != 0 && GetCurrentTimestamp() >= kill_at) {
            kill(-pid, SIGKILL);
            kill_at = 0;
        }
        if (exited && give_up_at == 0) {
            // The command is gone; whatever it left in its group would hold the output: end it, read what is left.
            kill(-pid, SIGKILL);
            kill_at = 0;
            give_up_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1000);
        }
        struct pollfd fds[3];
        int n = 0;
        int out_at = -1, in_at = -1, pid_at = -1;
        if (output_fd >= 0) {
            fds[n] = {output_fd, POLLIN, 0};
            out_at = n++;
        }
        if (input_fd >= 0) {
            fds[n] = {input_fd, POLLOUT, 0};
            in_at = n++;
        }
        if (pidfd >= 0 && !exited) {
            fds[n] = {pidfd, POLLIN, 0};
            pid_at = n++;
        }
        int ready = poll(fds, n, kPollMs);
        if (ready < 0 && errno != EINTR)
            break;
        if (out_at >= 0 && (fds[out_at].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t got = read(output_fd, chunk, sizeof chunk);
            if (got > 0)
                append_run_output(&shell->output, chunk, (size_t)got);
            else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(output_fd);
                output_fd = -1;
            }
        }
        if (in_at >= 0 && (fds[in_at].revents & (POLLOUT | POLLHUP | POLLERR))) {
            ssize_t put = (fds[in_at].revents & POLLOUT) ? write(input_fd, input, input_left) : -1;
            if (put > 0) {
                input += put;
                input_left -= (size_t)put;
            }
            if (input_left == 0 || (put < 0 && errno != EAGAIN && errno != EINTR)) {
                close(input_fd);
                input_fd = -1;
            }
        }
        if (!exited && (pidfd < 0 || (pid_at >= 0 && (fds[pid_at].revents & POLLIN)))) {
            pid_t done = waitpid(pid, &status, WNOHANG);
            if (done == pid)
                exited = true;
        }
    }
    if (input_fd >= 0)
        close(input_fd);
    if (output_fd >= 0)
        close(output_fd);
    if (!exited) {
        kill(-pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
    }
    if (pidfd >= 0)
        close(pidfd);
    kill(-pid, SIGKILL);
    reap_descendants();

    out->result = run_output_result(&shell->output, true);
    if (interrupted) {
        out->error = pstrdup(ProcDiePending ? "57P01: the command was stopped: its worker is stopping"
                                            : "57014: the command was cancelled");
        QueryCancelPending = false;
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        out->succeeded = true;
        return;
    }
    if (WIFEXITED(status))
        out->error = psprintf("58000: exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        out->error = psprintf("58000: killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        out->error = pstrdup("58000: the command ended in an unknown way");
}
