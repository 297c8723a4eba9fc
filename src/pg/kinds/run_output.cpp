// The bounded output of an http or shell run (see run_output.hpp).
#include "pg/kinds/run_output.hpp"

#include "pg/settings.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace {

void put(RunOutput *out, const unsigned char *bytes, int n) {
    if (out->length + n > out->capacity)
        return;
    memcpy(out->text + out->length, bytes, n);
    out->length += n;
    out->text[out->length] = '\0';
}

int utf8_sequence_length(unsigned char first) {
    if (first >= 0xc2 && first <= 0xdf)
        return 2;
    if (first >= 0xe0 && first <= 0xef)
        return 3;
    if (first >= 0xf0 && first <= 0xf4)
        return 4;
    return 0;
}

}  // namespace

void init_run_output(RunOutput *out) {
    out->capacity = chronos_max_result_size;
    out->text = (char *)palloc(out->capacity + 1);
    out->utf8 = GetDatabaseEncoding() == PG_UTF8;
    clear_run_output(out);
}

void clear_run_output(RunOutput *out) {
    out->length = 0;
    out->text[0] = '\0';
    out->total = 0;
    out->consumed = 0;
    out->pending_length = 0;
}

void append_run_output(RunOutput *out, const char *data, size_t size) {
    const unsigned char *bytes = (const unsigned char *)data;
    out->total += size;
    for (size_t i = 0; i < size && out->length < out->capacity; i++) {
        unsigned char c = bytes[i];
        out->consumed++;
        if (out->pending_length > 0) {
            out->pending[out->pending_length++] = c;
            int need = utf8_sequence_length(out->pending[0]);
            if (out->pending_length < need)
                continue;
            static const unsigned char question = '?';
            if (pg_utf8_islegal(out->pending, need))
                put(out, out->pending, need);
            else
                put(out, &question, 1);
            out->pending_length = 0;
            continue;
        }
        if (c < 0x80) {
            unsigned char kept = (c >= 0x20 && c != 0x7f) || c == '\n' || c == '\r' || c == '\t' ? c : '?';
            put(out, &kept, 1);
        } else if (out->utf8 && utf8_sequence_length(c) > 0) {
            out->pending[0] = c;
            out->pending_length = 1;
        } else {
            static const unsigned char question = '?';
            put(out, &question, 1);
        }
    }
}

void append_run_output_line(RunOutput *out, const char *line) {
    int n = (int)strlen(line);
    if (out->length + n + 1 > out->capacity)
        return;
    put(out, (const unsigned char *)line, n);
    put(out, (const unsigned char *)"\n", 1);
}

char *run_output_result(const RunOutput *out, bool all_read) {
    if (out->total <= out->consumed && all_read)
        return pstrdup(out->text);
    return psprintf("%s... [%s" UINT64_FORMAT " more bytes%s]", out->text, all_read ? "" : "at least ",
                    out->total - out->consumed, all_read ? "" : ", not read");
}
