// The result text of a run kept in chronos.runs.result: the command tag and rows affected of the last statement, then
// its first rows (columns separated by '|', one row a line), cut at chronos.max_result_size bytes.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "executor/spi.h"
#include "tcop/dest.h"
}

// From the last statement of an SPI execution whose rows went to `receiver` (`tag` is used for statements other than
// DML and SELECT).
char *result_from_receiver(const char *tag, int spi_result, uint64 rows, DestReceiver *receiver);

// A DestReceiver that keeps the first rows of a statement's output as result text, and nothing else: memory does
// not grow with the rows a command returns.
DestReceiver *create_result_receiver(void);
// The captured rows as text (may be empty), after the statement ran.
const char *captured_rows(DestReceiver *receiver);
// "TAG n" (or "TAG") followed by the captured rows.
char *result_text(const char *tag_and_count, const char *rows);
