// next_exec_time of loop tasks: the core's fire-time computation in PostgreSQL's time zones.
#include "pg/catalog/next_exec_time.hpp"

#include "pg/bridge/pg_time_zone.hpp"

namespace {

bool zone_or_error(const char *timezone, chronos::TimeZone *zone, chronos::CoreError *error) {
    if (timezone != NULL && find_time_zone(timezone, zone))
        return true;
    if (error != NULL) {
        error->kind = chronos::CoreError::invalid_value;
        snprintf(error->message, sizeof error->message, "unknown time zone \"%s\"", timezone ? timezone : "");
        error->detail[0] = '\0';
        snprintf(error->hint, sizeof error->hint, "Use a name from pg_timezone_names, for example 'Europe/Paris'.");
    }
    return false;
}

}  // namespace

bool compute_first_exec_time(const char *schedule, const char *timezone, TimestampTz start, TimestampTz not_before,
                             TimestampTz *out, chronos::CoreError *error) {
    chronos::TimeZone zone;
    chronos::CoreError ignored;
    return zone_or_error(timezone, &zone, error) &&
           chronos::engine_first_fire(schedule, start, not_before, &zone, out, error ? error : &ignored);
}

bool compute_next_exec_time(const char *schedule, const char *timezone, TimestampTz start, TimestampTz after,
                            TimestampTz *out, chronos::CoreError *error) {
    chronos::TimeZone zone;
    chronos::CoreError ignored;
    return zone_or_error(timezone, &zone, error) &&
           chronos::engine_next_fire(schedule, start, after, &zone, out, error ? error : &ignored);
}
