// chronos.http_grants: reading a role's grants, matching hosts and addresses, and the trigger on its rows (see
// http_grants.hpp).
#include "pg/kinds/http/http_grants.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_http_grant_before_write);
}

void load_http_grants(Oid owner, HttpGrants *out) {
    out->owner = owner;
    char *name = GetUserNameFromId(owner, true);
    out->owner_name = pstrdup(name ? name : "(dropped role)");
    out->superuser = superuser_arg(owner);
    out->count = 0;
    out->hosts = NULL;
    if (out->superuser)
        return;
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    int rc = SPI_execute("SELECT g.role::pg_catalog.oid, g.host FROM chronos.http_grants g", true, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: could not read chronos.http_grants: %s", SPI_result_code_string(rc));
    out->hosts = (char **)MemoryContextAlloc(caller, sizeof(char *) * (SPI_processed + 1));
    for (uint64 i = 0; i < SPI_processed; i++) {
        bool isnull;
        Oid role = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
        if (isnull || !has_privs_of_role(owner, role))
            continue;
        char *host = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
        if (host != NULL)
            out->hosts[out->count++] = MemoryContextStrdup(caller, host);
    }
    SPI_finish();
}

char *http_host_refusal(const HttpGrants *grants, const char *host) {
    if (grants->superuser)
        return NULL;
    chronos::IpAddress address;
    bool literal = chronos::parse_ip_address(host, &address);
    for (int i = 0; i < grants->count; i++) {
        chronos::GrantForm form = chronos::grant_form(grants->hosts[i]);
        if (literal && form == chronos::GrantForm::range) {
            chronos::AddressRange range;
            if (chronos::parse_address_range(grants->hosts[i], &range) && chronos::range_contains(range, address))
                return NULL;
        } else if (!literal && (form == chronos::GrantForm::name || form == chronos::GrantForm::wildcard) &&
                   chronos::grant_covers_name(grants->hosts[i], host)) {
            return NULL;
        }
    }
    return psprintf("role %s has no grant in chronos.http_grants for host \"%s\"", grants->owner_name, host);
}

bool http_address_allowed(const HttpGrants *grants, const chronos::IpAddress &address) {
    if (grants->superuser || chronos::classify_address(address) == chronos::AddressClass::public_address)
        return true;
    for (int i = 0; i < grants->count; i++) {
        chronos::AddressRange range;
        if (chronos::parse_address_range(grants->hosts[i], &range) && chronos::range_contains(range, address))
            return true;
    }
    return false;
}

// The trigger on chronos.http_grants: a grant's host is a host name, *.suffix, or an address range (only superusers
// write the table: its privileges say so).
extern "C" Datum chronos_http_grant_before_write(PG_FUNCTION_ARGS) {
    TriggerData *trigger = (TriggerData *)fcinfo->context;
    if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigger->tg_event) ||
        !TRIGGER_FIRED_FOR_ROW(trigger->tg_event))
        elog(ERROR, "chronos.http_grant_before_write() must be a BEFORE ROW trigger");
    HeapTuple tuple = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple;
    TupleDesc desc = trigger->tg_relation->rd_att;
    char *host = SPI_getvalue(tuple, desc, SPI_fnumber(desc, "host"));
    if (host != NULL && chronos::grant_form(host) == chronos::GrantForm::invalid)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid HTTP grant host \"%s\"", host),
                        errdetail("A grant names a host exactly (api.example.com), all hosts under a domain "
                                  "(*.example.com), or an address range in CIDR form (10.0.0.0/8, 127.0.0.1, ::1)."),
                        errhint("Write the host without scheme, port or path.")));
    return PointerGetDatum(tuple);
}
