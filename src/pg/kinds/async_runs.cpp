// The runs in flight of the http and shell kinds, driven together (see async_runs.hpp).
#include "pg/kinds/async_runs.hpp"

#include "pg/kinds/http/http_run.hpp"
#include "pg/kinds/shell/shell_run.hpp"

namespace {

constexpr int kMaxWaitFds = 3 * 512;

}  // namespace

TimestampTz advance_async_runs(int wait_ms) {
    static struct curl_waitfd fds[kMaxWaitFds];
    if (wait_ms > 0) {
        int n = shell_wait_fds(fds, kMaxWaitFds);
        poll_http_runs(fds, n, wait_ms);
    }
    advance_http_runs();
    return advance_shell_runs();
}
