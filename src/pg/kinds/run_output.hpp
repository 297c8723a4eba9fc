// What an http or shell run keeps of its output for chronos.runs.result: the first chronos.max_result_size bytes, as
// text the database can store (bytes that are not characters of its encoding, and control characters other than tab,
// CR and LF, are kept as '?'), and how many bytes there were in all. Filled while the run streams; it never grows past
// its capacity and allocates nothing once made, so the run loops of kinds/http and kinds/shell call it freely.
#pragma once
#include "pg/postgres.hpp"

struct RunOutput {
    char *text;      // NUL-terminated, at most `capacity` bytes
    int length;
    int capacity;
    uint64 total;    // bytes offered in all
    uint64 consumed; // of which were read into `text` (the rest did not fit)
    bool utf8;       // the database's encoding is UTF8: its multibyte characters are kept
    unsigned char pending[4];  // the start of a UTF-8 character split between two chunks
    int pending_length;
};

// Allocates the buffer (chronos.max_result_size bytes) in the current memory context.
void init_run_output(RunOutput *out);
// Empties it (a redirect's body is not the result).
void clear_run_output(RunOutput *out);
// Offers `size` bytes; keeps what fits. Safe to call with no PostgreSQL error possible.
void append_run_output(RunOutput *out, const char *data, size_t size);
// Keeps a whole line of pg_chronos's own (a status line), if it fits.
void append_run_output_line(RunOutput *out, const char *line);
// The result text, with a note of the bytes left out ("... [1048576 more bytes]", or "... [at least 65536 more
// bytes, not read]" when the run stopped reading), palloc'd.
char *run_output_result(const RunOutput *out, bool all_read);
