// HTTP requests in flight (see http_run.hpp). Between advance calls libcurl runs only inside curl_multi_perform and
// curl_multi_poll, whose callbacks below call no PostgreSQL function and allocate nothing: no error can jump over
// libcurl's state. Outcomes are built in the run's memory context once a transfer is over.
#include "pg/kinds/http/http_run.hpp"

#include "pg/kinds/http/http_check.hpp"
#include "pg/kinds/kind_settings.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

extern "C" {
#include "miscadmin.h"
#include "utils/memutils.h"
}

namespace {

constexpr int kMaxRedirects = 5;
constexpr int kMaxUrl = 8192;
// How much more of a body is read after the result is full, before the transfer is cut.
constexpr uint64 kReadPastResult = 64 * 1024;

struct HttpRun {
    AsyncRun base;            // first: an AsyncRun * is an HttpRun *
    HttpRequest *request;
    CURL *easy;
    struct curl_slist *headers;       // the task's and pg_chronos's
    struct curl_slist *kept_headers;  // pg_chronos's only: sent after a redirect to another origin
    bool in_multi;
    int hop;
    const char *method;
    const char *body;
    HttpUrl target;           // of the current hop
    char *url;                // of the current hop (kMaxUrl + 1 bytes)
    char status_line[256];    // the last "HTTP/…" line received
    char refused[256];        // why a connection was refused by the owner's grants
    bool cut;                 // the body was longer than kept: the transfer was stopped
    char error_buffer[CURL_ERROR_SIZE];
    HttpRun *next;
};

CURLM *multi = NULL;
HttpRun *runs = NULL;

size_t on_body(char *data, size_t size, size_t count, void *context) {
    HttpRun *run = (HttpRun *)context;
    RunOutput *output = &run->request->output;
    append_run_output(output, data, size * count);
    if (output->total > (uint64)output->capacity + kReadPastResult) {
        run->cut = true;
        return 0;  // stops the transfer: what is kept is all a run keeps
    }
    return size * count;
}

size_t on_header(char *data, size_t size, size_t count, void *context) {
    HttpRun *run = (HttpRun *)context;
    size_t length = size * count;
    if (length >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        size_t n = Min(length, sizeof run->status_line - 1);
        memcpy(run->status_line, data, n);
        while (n > 0 && (run->status_line[n - 1] == '\r' || run->status_line[n - 1] == '\n'))
            n--;
        run->status_line[n] = '\0';
    }
    return length;
}

// Every socket libcurl opens: refused unless the owner may reach its address (a name that resolves to loopback, a
// redirect to the metadata address, a rebinding between look-ups — all meet this check on the address itself).
curl_socket_t on_open_socket(void *context, curlsocktype purpose, struct curl_sockaddr *address) {
    HttpRun *run = (HttpRun *)context;
    chronos::IpAddress ip;
    memset(&ip, 0, sizeof ip);
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (address->family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&address->addr;
        ip.bytes[10] = ip.bytes[11] = 0xff;
        memcpy(ip.bytes + 12, &in->sin_addr, 4);
    } else if (address->family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&address->addr;
        memcpy(ip.bytes, &in6->sin6_addr, 16);
    } else {
        snprintf(run->refused, sizeof run->refused, "an address of family %d", address->family);
        return CURL_SOCKET_BAD;
    }
    if (!http_address_allowed(&run->request->grants, ip)) {
        char text[64];
        chronos::format_ip_address(ip, text, sizeof text);
        snprintf(run->refused, sizeof run->refused,
                 "connection to %s refused: it is %s, and the task's owner has no range grant in chronos.http_grants "
                 "that contains it",
                 text, chronos::address_class_name(chronos::classify_address(ip)));
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

// Before each request is sent, on the connection it goes over — a new one or one kept alive from an earlier request
// of this worker, perhaps of another owner (libcurl reuses connections without opening a socket): its address is
// checked against this run's owner's grants again.
int on_request_ready(void *context, char *primary_ip, char *, int, int) {
    HttpRun *run = (HttpRun *)context;
    chronos::IpAddress ip;
    if (!chronos::parse_ip_address(primary_ip, &ip)) {
        snprintf(run->refused, sizeof run->refused, "connection to \"%.64s\" refused: not an IP address", primary_ip);
        return CURL_PREREQFUNC_ABORT;
    }
    if (http_address_allowed(&run->request->grants, ip))
        return CURL_PREREQFUNC_OK;
    snprintf(run->refused, sizeof run->refused,
             "connection to %.64s refused: it is %s, and the task's owner has no range grant in chronos.http_grants "
             "that contains it",
             primary_ip, chronos::address_class_name(chronos::classify_address(ip)));
    return CURL_PREREQFUNC_ABORT;
}

void set_method(CURL *easy, const char *method, const char *body) {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, (char *)NULL);
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        return;
    }
    if (strcmp(method, "GET") == 0)
        return;
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body ? body : "");
    if (strcmp(method, "POST") != 0)
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
}

// Sends the current hop: its URL, method, body and headers.
void send_hop(HttpRun *run) {
    run->status_line[0] = '\0';
    run->cut = false;
    run->error_buffer[0] = '\0';
    clear_run_output(&run->request->output);
    curl_easy_setopt(run->easy, CURLOPT_URL, run->url);
    bool same_origin = strcmp(run->target.scheme, run->request->target.scheme) == 0 &&
                       pg_strcasecmp(run->target.host, run->request->target.host) == 0 &&
                       run->target.port == run->request->target.port;
    curl_easy_setopt(run->easy, CURLOPT_HTTPHEADER, same_origin ? run->headers : run->kept_headers);
    set_method(run->easy, run->method, run->body);
    curl_multi_add_handle(multi, run->easy);
    run->in_multi = true;
}

void take_out_of_multi(HttpRun *run) {
    if (run->in_multi)
        curl_multi_remove_handle(multi, run->easy);
    run->in_multi = false;
}

// The error of a transfer that got no answer, in words a user can act on.
char *failure_text(HttpRun *run, CURLcode code) {
    if (run->refused[0] != '\0')
        return psprintf("42501: %s", run->refused);
    const char *host = run->target.host;
    const char *detail = run->error_buffer[0] ? run->error_buffer : curl_easy_strerror(code);
    long os_errno = 0;
    curl_easy_getinfo(run->easy, CURLINFO_OS_ERRNO, &os_errno);
    switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
            return psprintf("58000: could not resolve host \"%s\"", host);
        case CURLE_COULDNT_CONNECT:
            return psprintf("58000: could not connect to %s port %ld: %s", host, run->target.port,
                            os_errno ? strerror((int)os_errno) : detail);
        case CURLE_OPERATION_TIMEDOUT:
            return psprintf("58000: request to %s timed out: %s", host, detail);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
            return psprintf("58000: TLS error with %s: %s", host, detail);
        default:
            return psprintf("58000: request to %s failed: %s", host, detail);
    }
}

void finish(HttpRun *run, bool succeeded, char *error, char *result) {
    run->base.outcome = {succeeded, error, result};
    run->base.done = true;
}

// A transfer is over: the run ends, or follows a redirect (each checked as the first request was).
void transfer_over(HttpRun *run, CURLcode result) {
    take_out_of_multi(run);
    MemoryContext caller = MemoryContextSwitchTo(run->base.context);
    RunOutput *output = &run->request->output;
    if (result != CURLE_OK && !(result == CURLE_WRITE_ERROR && run->cut)) {
        finish(run, false, failure_text(run, result), output->length > 0 ? run_output_result(output, false) : NULL);
        MemoryContextSwitchTo(caller);
        return;
    }
    long code = 0;
    curl_easy_getinfo(run->easy, CURLINFO_RESPONSE_CODE, &code);
    char *location = NULL;
    bool redirect = (code == 301 || code == 302 || code == 303 || code == 307 || code == 308) &&
                    curl_easy_getinfo(run->easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location != NULL;
    if (redirect) {
        HttpUrl next;
        char why[256];
        char *refusal;
        if (run->hop == kMaxRedirects)
            finish(run, false, psprintf("58000: more than %d redirects (the last to %s)", kMaxRedirects, location), NULL);
        else if (strlen(location) > kMaxUrl || !parse_http_url(location, &next, why, sizeof why))
            finish(run, false, psprintf("58000: redirect to a URL the task may not call: %s", why), NULL);
        else if ((refusal = http_host_refusal(&run->request->grants, next.host)) != NULL)
            finish(run, false, psprintf("42501: redirect to %s refused: %s", location, refusal), NULL);
        else {
            // As browsers do: 303 turns any method but HEAD into GET, 301/302 turn POST into GET; 307 and 308 keep
            // method and body. The task's own headers (credentials among them) go only to its first origin.
            if ((code == 303 && strcmp(run->method, "HEAD") != 0) ||
                ((code == 301 || code == 302) && strcmp(run->method, "POST") == 0)) {
                run->method = "GET";
                run->body = NULL;
            }
            snprintf(run->url, kMaxUrl + 1, "%s", location);
            run->target = next;
            run->hop++;
            send_hop(run);
        }
        MemoryContextSwitchTo(caller);
        return;
    }
    const char *space = strchr(run->status_line, ' ');
    char *words = space != NULL && space[1] != '\0' ? psprintf("HTTP %s", space + 1) : psprintf("HTTP %ld", code);
    char *text = psprintf("%s\n%s", run->status_line, run_output_result(output, !run->cut));
    bool ok = code >= 200 && code < 300;
    finish(run, ok, ok ? NULL : psprintf("58000: %s", words), text);
    MemoryContextSwitchTo(caller);
}

bool ensure_multi(void) {
    static bool curl_ready = false;
    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
        curl_ready = true;
    if (multi == NULL && curl_ready)
        multi = curl_multi_init();
    return multi != NULL;
}

}  // namespace

AsyncRun *start_http_run(const ClaimedTask *, const RunPlan *plan, MemoryContext context, RunOutcome *failure) {
    HttpRequest *request = (HttpRequest *)plan->detail;
    MemoryContext caller = MemoryContextSwitchTo(context);
    HttpRun *run = (HttpRun *)palloc0(sizeof(HttpRun));
    run->url = (char *)palloc(kMaxUrl + 1);
    MemoryContextSwitchTo(caller);
    run->base.context = context;
    run->request = request;
    run->method = request->method;
    run->body = request->body;
    run->target = request->target;
    snprintf(run->url, kMaxUrl + 1, "%s", request->url);
    if (!ensure_multi() || (run->easy = curl_easy_init()) == NULL) {
        *failure = {false, pstrdup("53200: could not start an HTTP request (out of memory)"), NULL};
        return NULL;
    }
    for (int i = 0; i < request->header_count; i++) {
        run->headers = curl_slist_append(run->headers, request->header_lines[i]);
        if (i >= request->own_header_count)
            run->kept_headers = curl_slist_append(run->kept_headers, request->header_lines[i]);
    }
    CURL *easy = run->easy;
    const char *ca_file = chronos_http_ca_file && chronos_http_ca_file[0] ? chronos_http_ca_file : NULL;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, run);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // followed in transfer_over, each redirect checked
    curl_easy_setopt(easy, CURLOPT_PROXY, "");            // never the server environment's proxy
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, run->error_buffer);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, run);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, run);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, run);
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_request_ready);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, run);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file != NULL)
        curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)chronos_max_requests_per_host);
    send_hop(run);
    run->next = runs;
    runs = run;
    return &run->base;
}

void stop_http_run(AsyncRun *base) {
    HttpRun *run = (HttpRun *)base;
    take_out_of_multi(run);
    run->base.done = true;
}

void release_http_run(AsyncRun *base) {
    HttpRun *run = (HttpRun *)base;
    take_out_of_multi(run);
    if (run->easy)
        curl_easy_cleanup(run->easy);
    curl_slist_free_all(run->headers);
    curl_slist_free_all(run->kept_headers);
    run->easy = NULL;
    run->headers = run->kept_headers = NULL;
    for (HttpRun **p = &runs; *p; p = &(*p)->next)
        if (*p == run) {
            *p = run->next;
            break;
        }
}

void poll_http_runs(struct curl_waitfd *extra, int extra_count, int timeout_ms) {
    if (multi != NULL) {
        curl_multi_poll(multi, extra, (unsigned)extra_count, timeout_ms, NULL);
        return;
    }
    struct pollfd fds[64];
    int n = Min(extra_count, 64);
    for (int i = 0; i < n; i++) {
        fds[i].fd = extra[i].fd;
        fds[i].events = (short)((extra[i].events & CURL_WAIT_POLLIN ? POLLIN : 0) |
                                (extra[i].events & CURL_WAIT_POLLOUT ? POLLOUT : 0));
        fds[i].revents = 0;
    }
    (void)poll(fds, n, timeout_ms);
}

void advance_http_runs(void) {
    if (multi == NULL || runs == NULL)
        return;
    int running;
    curl_multi_perform(multi, &running);
    int left;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &left)) != NULL) {
        if (message->msg != CURLMSG_DONE)
            continue;
        HttpRun *run = NULL;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&run);
        CURLcode result = message->data.result;
        if (run != NULL)
            transfer_over(run, result);
    }
}
