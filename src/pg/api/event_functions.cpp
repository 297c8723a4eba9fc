// chronos.call_handler(handler, handler_name, payload): what the task of an emitted event runs. The handler is bound by
// OID when the event is emitted, and must still be that function, under that name, when the task runs: a function
// put in its place under the same name (by whoever may drop or rename objects in its schema) is never called.
#include "pg/postgres.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_call_handler);
}

namespace {

void handler_gone(const char *recorded, Oid handler, const char *why) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                    errmsg("the handler %s of this event is not the function it was when the event was emitted",
                           recorded),
                    errdetail("Function OID %u %s.", handler, why),
                    errhint("Register the handler again with chronos.listen(event, handler), then emit the event "
                            "again.")));
}

}  // namespace

extern "C" Datum chronos_call_handler(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("handler and handler_name must not be NULL")));
    Oid handler = PG_GETARG_OID(0);
    char *recorded = text_to_cstring(PG_GETARG_TEXT_PP(1));

    HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(handler));
    if (!HeapTupleIsValid(tuple))
        handler_gone(recorded, handler, "was dropped");
    Form_pg_proc proc = (Form_pg_proc)GETSTRUCT(tuple);
    char *schema = get_namespace_name(proc->pronamespace);
    const char *current = quote_qualified_identifier(schema ? schema : "", NameStr(proc->proname));
    bool same_name = strcmp(current, recorded) == 0;
    bool takes_jsonb = proc->prokind == PROKIND_FUNCTION && !proc->proretset && proc->pronargs == 1 &&
                       proc->proargtypes.values[0] == JSONBOID;
    ReleaseSysCache(tuple);
    if (!same_name)
        handler_gone(recorded, handler, psprintf("is now called %s", current));
    if (!takes_jsonb)
        handler_gone(recorded, handler, "no longer is a function taking one jsonb argument");
    AclResult acl = pg_proc_aclcheck(handler, GetUserId(), ACL_EXECUTE);
    if (acl != ACLCHECK_OK)
        aclcheck_error(acl, OBJECT_FUNCTION, recorded);

    // Called as an ordinary function call would call it: strictness, SECURITY DEFINER and SET clauses apply.
    FmgrInfo flinfo;
    fmgr_info(handler, &flinfo);
    if (flinfo.fn_strict && PG_ARGISNULL(2))
        PG_RETURN_VOID();
    LOCAL_FCINFO(call, 1);
    InitFunctionCallInfoData(*call, &flinfo, 1, InvalidOid, NULL, NULL);
    call->args[0].value = PG_ARGISNULL(2) ? (Datum)0 : PG_GETARG_DATUM(2);
    call->args[0].isnull = PG_ARGISNULL(2);
    (void)FunctionCallInvoke(call);
    PG_RETURN_VOID();
}
