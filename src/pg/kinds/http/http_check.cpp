// The http kind's checks and plan (see http_check.hpp).
#include "pg/kinds/http/http_check.hpp"

#include "pg/run/run_timeout.hpp"
#include "pg/settings.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>

extern "C" {
#include "common/hashfn.h"
#include "miscadmin.h"
#include "access/xlog.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

namespace {

constexpr int kMaxUrlLength = 8192;

void invalid_http(const char *what, const char *value, const char *detail, const char *hint) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid HTTP task %s \"%s\"", what, value),
                    errdetail("%s", detail), errhint("%s", hint)));
}

// The task's headers (a JSON object of name -> string) as "Name: value" lines appended to `lines` from `*count`.
// Returns NULL, or why they cannot be sent (the check raises it; a run fails with it).
char *read_headers(const char *headers_json, char **lines, int *count, int max) {
    Jsonb *headers = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(headers_json)));
    if (!JB_ROOT_IS_OBJECT(headers) || JB_ROOT_IS_SCALAR(headers))
        return pstrdup("http_headers is a JSON object of header name to string value.");
    JsonbIterator *it = JsonbIteratorInit(&headers->root);
    JsonbValue value;
    JsonbIteratorToken token;
    char *name = NULL;
    while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE) {
        if (token == WJB_KEY) {
            name = pnstrdup(value.val.string.val, value.val.string.len);
        } else if (token == WJB_VALUE) {
            if (value.type != jbvString)
                return psprintf("The value of header \"%s\" is not a JSON string.", name);
            char *text = pnstrdup(value.val.string.val, value.val.string.len);
            const char *problem = chronos::header_problem(name, text);
            if (problem != NULL)
                return psprintf("Header \"%s\": %s", name, problem);
            if (*count >= max)
                return psprintf("A task sends at most %d headers.", max);
            lines[(*count)++] = psprintf("%s: %s", name, text);
        }
    }
    return NULL;
}

bool has_header(char **lines, int count, const char *name) {
    size_t length = strlen(name);
    for (int i = 0; i < count; i++)
        if (pg_strncasecmp(lines[i], name, length) == 0 && lines[i][length] == ':')
            return true;
    return false;
}

// The same key for every attempt of a task's scheduled slot: attempts of a slot share the run count of its first one.
void idempotency_key(const ClaimedTask *task, char *out, int size) {
    int64 slot = task->manual ? -task->run_count - 1 : task->run_count - (task->attempt - 1);
    uint64 parts[4] = {GetSystemIdentifier(), (uint64)MyDatabaseId, (uint64)task->id, (uint64)slot};
    uint64 a = hash_bytes_extended((const unsigned char *)parts, sizeof parts, 0x63687230);
    uint64 b = hash_bytes_extended((const unsigned char *)parts, sizeof parts, 0x6e6f7321);
    snprintf(out, size, "%08x-%04x-%04x-%04x-%012llx", (uint32)(a >> 32), (uint32)(a >> 16) & 0xffff,
             (uint32)a & 0xffff, (uint32)(b >> 48), (unsigned long long)(b & UINT64CONST(0xffffffffffff)));
}

}  // namespace

bool parse_http_url(const char *url, HttpUrl *out, char *why, int why_size) {
    size_t length = strlen(url);
    if (length == 0 || length > kMaxUrlLength) {
        snprintf(why, why_size, "A URL has 1 to %d characters.", kMaxUrlLength);
        return false;
    }
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            snprintf(why, why_size, "A URL has no blank or control character; encode them (%%20).");
            return false;
        }
    CURLU *parsed = curl_url();
    if (parsed == NULL) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    bool ok = false;
    char *scheme = NULL, *host = NULL, *port = NULL;
    CURLUcode rc = curl_url_set(parsed, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (rc != CURLUE_OK)
        snprintf(why, why_size, "libcurl cannot read it: %s.", curl_url_strerror(rc));
    else if (curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        snprintf(why, why_size, "An HTTP task calls http:// or https:// URLs only%s%s.", scheme ? ", not " : "",
                 scheme ? scheme : "");
    else if (curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0' ||
             strlen(host) >= sizeof out->host)
        snprintf(why, why_size, "The URL has no host, or one longer than 255 characters.");
    else if (curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        snprintf(why, why_size, "The URL's port is not valid.");
    else {
        snprintf(out->scheme, sizeof out->scheme, "%s", scheme);
        snprintf(out->host, sizeof out->host, "%s", host);
        out->port = strtol(port, NULL, 10);
        ok = true;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(parsed);
    return ok;
}

void check_http_task(const TaskWrite *row) {
    HttpUrl target;
    char why[256];
    if (!parse_http_url(row->command, &target, why, sizeof why))
        invalid_http("URL", row->command, why, "For example command => 'https://api.example.com/hooks/nightly'.");
    const char *method = row->http_method ? row->http_method : "GET";
    if (!chronos::http_method_known(method))
        invalid_http("method", method, "An HTTP task's method is GET, POST, PUT, PATCH, DELETE or HEAD.",
                     "Write the method in capitals, or leave http_method NULL for GET.");
    if (row->http_body != NULL && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
        invalid_http("body for method", method, "GET and HEAD requests carry no body.",
                     "Set http_method to 'POST' (or PUT, PATCH, DELETE), or http_body to NULL.");
    if (row->transactional != NULL && strcmp(row->transactional, "t") == 0)
        invalid_http("transactional", "true", "An HTTP request is not part of a transaction: it runs on its own.",
                     "Leave transactional NULL.");
    if (row->http_headers != NULL) {
        char *lines[68];
        int count = 0;
        char *problem = read_headers(row->http_headers, lines, &count, 64);
        if (problem != NULL)
            invalid_http("headers", row->http_headers, problem,
                         "Write http_headers as a JSON object, for example '{\"Authorization\": \"Bearer …\"}'.");
    }
    HttpGrants grants;
    load_http_grants(row->owner, &grants);
    char *refusal = http_host_refusal(&grants, target.host);
    if (refusal != NULL) {
        char *role = GetUserNameFromId(row->owner, false);
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to call host \"%s\" as role \"%s\"", target.host, role),
                        errdetail("Roles that are not superusers send HTTP requests only to hosts a superuser granted "
                                  "them in chronos.http_grants."),
                        errhint("A superuser grants it: INSERT INTO chronos.http_grants (role, host) VALUES (%s, %s);",
                                quote_literal_cstr(role),
                                quote_literal_cstr(target.host[0] == '[' ? pnstrdup(target.host + 1,
                                                                                   strlen(target.host) - 2)
                                                                         : target.host))));
    }
}

namespace {

// An address literal in its canonical text (IPv4-mapped IPv6 as IPv4, without zone id); a name as it is.
const char *canonical_host(const char *host) {
    static char text[INET6_ADDRSTRLEN];
    struct in_addr v4;
    if (inet_aton(host, &v4) != 0)
        return inet_ntop(AF_INET, &v4, text, sizeof text) ? text : host;
    size_t length = strlen(host);
    if (length < 3 || host[0] != '[' || host[length - 1] != ']' || length - 2 >= sizeof text)
        return host;
    char inner[INET6_ADDRSTRLEN];
    memcpy(inner, host + 1, length - 2);
    inner[length - 2] = '\0';
    char *zone = strchr(inner, '%');
    if (zone != NULL)
        *zone = '\0';
    struct in6_addr v6;
    if (inet_pton(AF_INET6, inner, &v6) != 1)
        return host;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
        memcpy(&v4, &v6.s6_addr[12], 4);
        return inet_ntop(AF_INET, &v4, text, sizeof text) ? text : host;
    }
    return inet_ntop(AF_INET6, &v6, text, sizeof text) ? text : host;
}

}  // namespace

bool plan_http_run(const ClaimedTask *task, RunPlan *plan, RunOutcome *failure) {
    plan->host_key = 0;
    plan->transactional = false;
    plan->last_tag = NULL;
    plan->detail = NULL;
    HttpRequest *request = (HttpRequest *)palloc0(sizeof(HttpRequest));
    char why[256];
    *failure = {false, NULL, NULL};
    // Everything the run uses is copied into the plan's memory context: the run outlives the claim's.
    request->url = pstrdup(task->command);
    if (!parse_http_url(task->command, &request->target, why, sizeof why)) {
        failure->error = psprintf("22023: invalid HTTP task URL: %s", why);
        return false;
    }
    request->method = pstrdup(task->http_method ? task->http_method : "GET");
    if (!chronos::http_method_known(request->method)) {
        failure->error = psprintf("22023: invalid HTTP task method \"%s\"", request->method);
        return false;
    }
    load_http_grants(task->owner, &request->grants);
    char *refusal = http_host_refusal(&request->grants, request->target.host);
    if (refusal != NULL) {
        failure->error = psprintf("42501: %s", refusal);
        return false;
    }
    request->header_lines = (char **)palloc(sizeof(char *) * 72);
    if (task->http_headers != NULL) {
        char *problem = read_headers(task->http_headers, request->header_lines, &request->header_count, 64);
        if (problem != NULL) {
            failure->error = psprintf("22023: invalid HTTP task headers: %s", problem);
            return false;
        }
    }
    request->own_header_count = request->header_count;
    request->body = task->http_body ? pstrdup(task->http_body) : NULL;
    bool sends_body = strcmp(request->method, "GET") != 0 && strcmp(request->method, "HEAD") != 0;
    if (request->body == NULL && task->payload != NULL && sends_body) {
        request->body = pstrdup(task->payload);
        if (!has_header(request->header_lines, request->header_count, "Content-Type"))
            request->header_lines[request->header_count++] = pstrdup("Content-Type: application/json");
    }
    request->header_lines[request->header_count++] = psprintf("User-Agent: pg_chronos/%s", kCatalogVersion);
    char key[64];
    idempotency_key(task, key, sizeof key);
    request->header_lines[request->header_count++] = psprintf("Idempotency-Key: %s", key);
    request->header_lines[request->header_count++] = pstrdup("Expect:");  // no 100-continue round trip
    init_run_output(&request->output);
    request->timeout_ms = timeout_ms_of(task);
    plan->detail = request;
    // The host as the per-host count knows it: an address in its one form (127.1, 2130706433, 0x7f000001 and
    // [::ffff:127.0.0.1] are all 127.0.0.1), a name case-folded; and the port.
    char *host = psprintf("%s:%ld", canonical_host(request->target.host), (long)request->target.port);
    for (char *c = host; *c; c++)
        *c = pg_ascii_tolower((unsigned char)*c);
    plan->host_key = Max(1, (uint32)hash_bytes((const unsigned char *)host, (int)strlen(host)));
    return true;
}
