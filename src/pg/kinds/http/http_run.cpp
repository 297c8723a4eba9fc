// Sending an http task's request (see http_run.hpp). Between curl_easy_init and its cleanup nothing here calls
// PostgreSQL but to read interrupt flags: no error can jump over libcurl's state, and the outcome is built after.
#include "pg/kinds/http/http_run.hpp"

#include "pg/kinds/http/http_check.hpp"
#include "pg/kinds/kind_settings.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sys/socket.h>

extern "C" {
#include "miscadmin.h"
}

namespace {

constexpr int kMaxRedirects = 5;
constexpr int kPollMs = 50;
// How much more of a body is read after the result is full, before the transfer is cut.
constexpr uint64 kReadPastResult = 64 * 1024;

// What one request's callbacks see and leave.
struct Transfer {
    HttpRequest *request;
    char status_line[256];     // the last "HTTP/…" line received
    char refused[256];         // why a connection was refused by the owner's grants
    bool cut;                  // the body was longer than kept: the transfer was stopped
};

size_t on_body(char *data, size_t size, size_t count, void *context) {
    Transfer *transfer = (Transfer *)context;
    RunOutput *output = &transfer->request->output;
    append_run_output(output, data, size * count);
    if (output->total > (uint64)output->capacity + kReadPastResult) {
        transfer->cut = true;
        return 0;  // stops the transfer: what is kept is all a run keeps
    }
    return size * count;
}

size_t on_header(char *data, size_t size, size_t count, void *context) {
    Transfer *transfer = (Transfer *)context;
    size_t length = size * count;
    if (length >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        size_t n = Min(length, sizeof transfer->status_line - 1);
        memcpy(transfer->status_line, data, n);
        while (n > 0 && (transfer->status_line[n - 1] == '\r' || transfer->status_line[n - 1] == '\n'))
            n--;
        transfer->status_line[n] = '\0';
    }
    return length;
}

// Every socket libcurl opens: refused unless the owner may reach its address (a name that resolves to loopback, a
// redirect to the metadata address, a rebinding between look-ups — all meet this check on the address itself).
curl_socket_t on_open_socket(void *context, curlsocktype purpose, struct curl_sockaddr *address) {
    Transfer *transfer = (Transfer *)context;
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
        snprintf(transfer->refused, sizeof transfer->refused, "an address of family %d", address->family);
        return CURL_SOCKET_BAD;
    }
    if (!http_address_allowed(&transfer->request->grants, ip)) {
        char text[64];
        chronos::format_ip_address(ip, text, sizeof text);
        snprintf(transfer->refused, sizeof transfer->refused,
                 "connection to %s refused: it is %s, and the task's owner has no range grant in chronos.http_grants "
                 "that contains it",
                 text, chronos::address_class_name(chronos::classify_address(ip)));
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

// Drives one transfer to its end, or until the run is cancelled or its worker told to stop.
CURLcode perform(CURLM *multi, CURL *easy, bool *interrupted) {
    curl_multi_add_handle(multi, easy);
    CURLcode result = CURLE_OK;
    for (;;) {
        int running = 0;
        curl_multi_perform(multi, &running);
        if (running == 0)
            break;
        if (QueryCancelPending || ProcDiePending) {
            *interrupted = true;
            break;
        }
        curl_multi_poll(multi, NULL, 0, kPollMs, NULL);
    }
    int left;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &left)) != NULL)
        if (message->msg == CURLMSG_DONE)
            result = message->data.result;
    curl_multi_remove_handle(multi, easy);
    return result;
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

// The error of a transfer that got no answer, in words a user can act on.
void describe_failure(CURL *easy, CURLcode code, const HttpUrl *target, const Transfer *transfer,
                      const char *error_buffer, char *out, int size) {
    if (transfer->refused[0] != '\0') {
        snprintf(out, size, "42501: %s", transfer->refused);
        return;
    }
    long os_errno = 0;
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
            snprintf(out, size, "58000: could not resolve host \"%s\"", target->host);
            return;
        case CURLE_COULDNT_CONNECT:
            snprintf(out, size, "58000: could not connect to %s port %ld: %s", target->host, target->port,
                     os_errno ? strerror((int)os_errno) : error_buffer);
            return;
        case CURLE_OPERATION_TIMEDOUT:
            snprintf(out, size, "58000: request to %s timed out: %s", target->host, error_buffer);
            return;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
            snprintf(out, size, "58000: TLS error with %s: %s", target->host, error_buffer[0] ? error_buffer
                                                                                    : curl_easy_strerror(code));
            return;
        default:
            snprintf(out, size, "58000: request to %s failed: %s", target->host,
                     error_buffer[0] ? error_buffer : curl_easy_strerror(code));
    }
}

// "HTTP/1.1 503 Service Unavailable" → "HTTP 503 Service Unavailable".
void status_words(const char *status_line, long code, char *out, int size) {
    const char *space = strchr(status_line, ' ');
    if (space != NULL && space[1] != '\0')
        snprintf(out, size, "HTTP %s", space + 1);
    else
        snprintf(out, size, "HTTP %ld", code);
}

bool same_origin(const HttpUrl *a, const HttpUrl *b) {
    return strcmp(a->scheme, b->scheme) == 0 && pg_strcasecmp(a->host, b->host) == 0 && a->port == b->port;
}

}  // namespace

void run_http(const ClaimedTask *, const RunPlan *plan, Oid, bool, RunOutcome *out) {
    static bool curl_ready = false;
    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
        curl_ready = true;
    HttpRequest *request = (HttpRequest *)plan->detail;
    char error[1024] = "";
    long code = 0;
    bool interrupted = false;
    bool cut = false;
    char status_line[256] = "";
    // Prepared before libcurl: nothing below may raise an error until its cleanup.
    char *redirect_url = (char *)palloc(8192 + 1);
    HttpUrl next_target;
    const char *ca_file = chronos_http_ca_file && chronos_http_ca_file[0] ? chronos_http_ca_file : NULL;
    bool sends_own_headers = true;
    const char *url = request->url;
    const char *method = request->method;
    const char *body = request->body;
    HttpUrl origin = request->target;

    CURLM *multi = curl_multi_init();
    CURL *easy = curl_easy_init();
    struct curl_slist *headers = NULL, *kept_headers = NULL;
    for (int i = 0; i < request->header_count; i++) {
        headers = curl_slist_append(headers, request->header_lines[i]);
        if (i >= request->own_header_count)
            kept_headers = curl_slist_append(kept_headers, request->header_lines[i]);
    }
    char error_buffer[CURL_ERROR_SIZE] = "";
    Transfer transfer;
    memset(&transfer, 0, sizeof transfer);
    transfer.request = request;
    if (multi == NULL || easy == NULL || headers == NULL) {
        snprintf(error, sizeof error, "53200: could not start an HTTP request (out of memory)");
    } else {
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // followed here, each redirect checked
        curl_easy_setopt(easy, CURLOPT_PROXY, "");            // never the server environment's proxy
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &transfer);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
        if (ca_file != NULL)
            curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file);
        if (request->timeout_ms > 0)
            curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)Min(request->timeout_ms + 1000, (int64)LONG_MAX));
        for (int hop = 0;; hop++) {
            clear_run_output(&request->output);
            transfer.status_line[0] = '\0';
            transfer.cut = false;
            error_buffer[0] = '\0';
            curl_easy_setopt(easy, CURLOPT_URL, url);
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, sends_own_headers ? headers : kept_headers);
            set_method(easy, method, body);
            CURLcode result = perform(multi, easy, &interrupted);
            if (interrupted)
                break;
            cut = transfer.cut;
            if (result != CURLE_OK && !(result == CURLE_WRITE_ERROR && cut)) {
                describe_failure(easy, result, hop == 0 ? &origin : &next_target, &transfer, error_buffer, error,
                                 sizeof error);
                break;
            }
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
            snprintf(status_line, sizeof status_line, "%s", transfer.status_line);
            char *location = NULL;
            if (code < 300 || code > 308 || code == 304 || code == 305 || code == 306 ||
                curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || location == NULL)
                break;
            if (hop == kMaxRedirects) {
                snprintf(error, sizeof error, "58000: more than %d redirects (the last to %s)", kMaxRedirects, location);
                break;
            }
            char why[256];
            if (strlen(location) > 8192 || !parse_http_url(location, &next_target, why, sizeof why)) {
                snprintf(error, sizeof error, "58000: redirect to a URL the task may not call: %s", why);
                break;
            }
            char *refusal = http_host_refusal(&request->grants, next_target.host);
            if (refusal != NULL) {
                snprintf(error, sizeof error, "42501: redirect to %s refused: %s", location, refusal);
                break;
            }
            snprintf(redirect_url, 8192 + 1, "%s", location);
            url = redirect_url;
            // As browsers do: 303 turns any method but HEAD into GET, and 301/302 turn POST into GET; 307 and 308
            // keep method and body. The task's own headers (credentials among them) go only to its first origin.
            if ((code == 303 && strcmp(method, "HEAD") != 0) || ((code == 301 || code == 302) && strcmp(method, "POST") == 0)) {
                method = "GET";
                body = NULL;
            }
            if (!same_origin(&origin, &next_target))
                sends_own_headers = false;
            clear_run_output(&request->output);
        }
    }
    curl_easy_cleanup(easy);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_slist_free_all(kept_headers);

    *out = {false, NULL, NULL};
    if (interrupted) {
        out->error = pstrdup(ProcDiePending ? "57P01: the request was stopped: its worker is stopping"
                                            : "57014: the request was cancelled");
        QueryCancelPending = false;
        return;
    }
    if (error[0] != '\0') {
        out->error = pstrdup(error);
        out->result = request->output.length > 0 ? run_output_result(&request->output, !cut) : NULL;
        return;
    }
    char words[300];
    status_words(status_line, code, words, sizeof words);
    RunOutput *output = &request->output;
    char *body_text = run_output_result(output, !cut);
    out->result = psprintf("%s\n%s", status_line, body_text);
    if (code >= 200 && code < 300) {
        out->succeeded = true;
        return;
    }
    out->error = psprintf("58000: %s", words);
}
