// The result text of a run (see sql_result.hpp).
#include "pg/kinds/sql/sql_result.hpp"

#include "pg/settings.hpp"

extern "C" {
#include "access/detoast.h"
#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/lsyscache.h"
}

namespace {

// A value larger than this is shown by its size, not converted to text: the result keeps at most
// chronos.max_result_size bytes, and converting a 1 GB value to keep 1 kB of it would cost 1 GB more.
constexpr Size kLargestConvertedValue = 4 * 1024 * 1024;

// Appends one row, as psql's unaligned format would print it; false once the size limit is reached.
bool append_row(StringInfo out, TupleDesc desc, const Datum *values, const bool *nulls, FmgrInfo *output) {
    if (out->len >= chronos_max_result_size)
        return false;
    appendStringInfoChar(out, '\n');
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        if (attr->attisdropped)
            continue;
        if (i > 0)
            appendStringInfoChar(out, '|');
        if (nulls[i])
            continue;
        Size size = attr->attlen == -1 ? toast_raw_datum_size(values[i]) : 0;
        if (size > kLargestConvertedValue)
            appendStringInfo(out, "(a value of %zu bytes)", size);
        else
            appendStringInfoString(out, OutputFunctionCall(&output[i], values[i]));
        if (out->len >= chronos_max_result_size)
            break;
    }
    return out->len < chronos_max_result_size;
}

FmgrInfo *output_functions(TupleDesc desc) {
    FmgrInfo *output = static_cast<FmgrInfo *>(palloc0(sizeof(FmgrInfo) * Max(desc->natts, 1)));
    for (int i = 0; i < desc->natts; i++) {
        Oid function;
        bool varlena;
        getTypeOutputInfo(TupleDescAttr(desc, i)->atttypid, &function, &varlena);
        fmgr_info(function, &output[i]);
    }
    return output;
}

struct ResultReceiver {
    DestReceiver pub;  // first: PostgreSQL sees a DestReceiver
    StringInfoData rows;
    FmgrInfo *output;
    bool full;
};

bool receive_slot(TupleTableSlot *slot, DestReceiver *self) {
    ResultReceiver *receiver = reinterpret_cast<ResultReceiver *>(self);
    if (!receiver->full) {
        slot_getallattrs(slot);
        receiver->full = !append_row(&receiver->rows, slot->tts_tupleDescriptor, slot->tts_values, slot->tts_isnull,
                                     receiver->output);
    }
    return true;
}

void startup_receiver(DestReceiver *self, int, TupleDesc desc) {
    ResultReceiver *receiver = reinterpret_cast<ResultReceiver *>(self);
    receiver->output = output_functions(desc);
    resetStringInfo(&receiver->rows);
    receiver->full = chronos_max_result_size == 0;
}

void shutdown_receiver(DestReceiver *) {}

void destroy_receiver(DestReceiver *) {}

}  // namespace

char *result_text(const char *tag_and_count, const char *rows) {
    StringInfoData out;
    initStringInfo(&out);
    appendStringInfoString(&out, tag_and_count);
    appendStringInfoString(&out, rows ? rows : "");
    if (out.len > chronos_max_result_size && chronos_max_result_size >= (int)strlen(tag_and_count))
        out.data[pg_mbcliplen(out.data, out.len, chronos_max_result_size)] = '\0';  // never split a character
    return out.data;
}

// The command tag of a statement that returned `spi_result`, for DML and SELECT; NULL for others.
static const char *dml_tag(int spi_result) {
    switch (spi_result) {
        case SPI_OK_SELECT:
        case SPI_OK_SELINTO:
            return "SELECT";
        case SPI_OK_INSERT:
        case SPI_OK_INSERT_RETURNING:
            return "INSERT";
        case SPI_OK_DELETE:
        case SPI_OK_DELETE_RETURNING:
            return "DELETE";
        case SPI_OK_UPDATE:
        case SPI_OK_UPDATE_RETURNING:
            return "UPDATE";
#ifdef SPI_OK_MERGE
        case SPI_OK_MERGE:
            return "MERGE";
#endif
        default:
            return NULL;
    }
}

char *result_from_receiver(const char *tag, int spi_result, uint64 rows, DestReceiver *receiver) {
    const char *dml = dml_tag(spi_result);
    if (dml == NULL)
        return pstrdup(tag ? tag : SPI_result_code_string(spi_result));
    return result_text(psprintf("%s " UINT64_FORMAT, dml, rows), captured_rows(receiver));
}

DestReceiver *create_result_receiver(void) {
    ResultReceiver *receiver = static_cast<ResultReceiver *>(palloc0(sizeof(ResultReceiver)));
    receiver->pub.receiveSlot = receive_slot;
    receiver->pub.rStartup = startup_receiver;
    receiver->pub.rShutdown = shutdown_receiver;
    receiver->pub.rDestroy = destroy_receiver;
    receiver->pub.mydest = DestTuplestore;  // not DestNone: SPI then reports a SELECT as such
    initStringInfo(&receiver->rows);
    return &receiver->pub;
}

const char *captured_rows(DestReceiver *receiver) {
    return reinterpret_cast<ResultReceiver *>(receiver)->rows.data;
}
