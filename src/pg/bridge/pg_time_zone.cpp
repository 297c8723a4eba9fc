// The core's TimeZone interface answered from PostgreSQL's tz database, so schedules see exactly the zones the server sees.
#include "pg/bridge/pg_time_zone.hpp"

extern "C" {
#include "pgtime.h"
}

namespace {

int32_t pg_utc_offset(const void *context, int64_t unix_seconds) {
    pg_time_t t = unix_seconds;
    struct pg_tm *tm = pg_localtime(&t, static_cast<const pg_tz *>(context));
    return tm ? static_cast<int32_t>(tm->tm_gmtoff) : 0;
}

// pg_next_dst_boundary also reports changes of abbreviation or isdst alone; skip those, the core wants offset changes.
bool pg_next_transition(const void *context, int64_t unix_seconds, int64_t *transition) {
    const pg_tz *tz = static_cast<const pg_tz *>(context);
    pg_time_t from = unix_seconds;
    for (int i = 0; i < 64; i++) {
        long before_gmtoff, after_gmtoff;
        int before_isdst, after_isdst;
        pg_time_t boundary;
        if (pg_next_dst_boundary(&from, &before_gmtoff, &before_isdst, &boundary, &after_gmtoff, &after_isdst, tz) != 1)
            return false;
        if (before_gmtoff != after_gmtoff) {
            *transition = boundary;
            return true;
        }
        from = boundary;
    }
    return false;
}

}  // namespace

static void fill_zone(pg_tz *tz, chronos::TimeZone *zone) {
    zone->context = tz;
    zone->name = pg_get_timezone_name(tz);
    zone->utc_offset = pg_utc_offset;
    zone->next_transition = pg_next_transition;
}

bool find_time_zone(const char *name, chronos::TimeZone *zone) {
    pg_tz *tz = pg_tzset(name);
    if (tz == NULL)
        return false;
    fill_zone(tz, zone);
    return true;
}

void lookup_time_zone(const char *name, chronos::TimeZone *zone) {
    if (name == NULL)
        fill_zone(session_timezone, zone);
    else if (!find_time_zone(name, zone))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown time zone \"%s\"", name),
                        errhint("Use a name from pg_timezone_names, for example 'Europe/Paris' or 'UTC'.")));
}
