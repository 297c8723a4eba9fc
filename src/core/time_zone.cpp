// Wall-clock times and instants in a zone: which instants a local time names (once, twice, or none in a DST gap), and
// PostgreSQL's own reading of a local time. The fire-time searches and add_interval build on these three functions.
#include "core.hpp"
#include "time_zone.hpp"

#include <stdexcept>

namespace chronos {

LocalMapping map_local_time(const TimeZone &zone, int64_t local_seconds) {
    // UTC offsets are under a day, so every instant reading `local_seconds` lies within a day of it: walk the stretches
    // of constant offset that cover that window, noting where the local time occurs and which transition jumps over it.
    const int64_t window_end = local_seconds + kSecondsPerDay;
    int64_t begin = local_seconds - kSecondsPerDay;
    int32_t offset = zone.utc_offset(zone.context, begin);
    int found = 0;
    int64_t occurrences[2] = {0, 0};
    bool in_gap = false;
    int64_t gap_end = 0;
    for (;;) {
        int64_t end = 0;
        bool changes = zone.next_transition(zone.context, begin, &end);
        int64_t instant = local_seconds - offset;
        if (instant >= begin && (!changes || instant < end) && found < 2) occurrences[found++] = instant;
        if (!changes || end > window_end) break;
        int32_t next_offset = zone.utc_offset(zone.context, end);
        if (!in_gap && end + offset <= local_seconds && local_seconds < end + next_offset) {
            in_gap = true;
            gap_end = end;
        }
        begin = end;
        offset = next_offset;
    }
    if (found == 2) return {LocalMapping::repeated, occurrences[0], occurrences[1]};
    if (found == 1) return {LocalMapping::unique, occurrences[0], occurrences[0]};
    if (in_gap) return {LocalMapping::skipped, gap_end, gap_end};
    throw std::logic_error("time zone offsets are inconsistent around a local time");
}

int64_t to_local_seconds(const TimeZone &zone, int64_t unix_seconds) {
    return unix_seconds + zone.utc_offset(zone.context, unix_seconds);
}

int64_t local_to_unix_like_postgres(const TimeZone &zone, int64_t local_seconds) {
    LocalMapping mapping = map_local_time(zone, local_seconds);
    switch (mapping.kind) {
        case LocalMapping::unique:
            return mapping.first;
        case LocalMapping::repeated:
            return mapping.second;
        case LocalMapping::skipped:
            break;
    }
    return local_seconds - zone.utc_offset(zone.context, mapping.first - 1);
}

}  // namespace chronos
