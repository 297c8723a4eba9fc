// The core's TimeZone interface, answered from PostgreSQL's own tz database (pg_tzset / pg_localtime / pg_next_dst_boundary).
#pragma once
#include "core/time_zone.hpp"
#include "pg/postgres.hpp"

// Fills `zone` for the zone called `name`, or for the session's TimeZone when `name` is NULL.
// An unknown name raises ERROR 22023 with a hint.
void lookup_time_zone(const char *name, chronos::TimeZone *zone);

// Fills `zone` for the zone called `name`; false if PostgreSQL does not know it.
bool find_time_zone(const char *name, chronos::TimeZone *zone);
