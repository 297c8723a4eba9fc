// Tabulates a system zone's UTC offsets by asking the C library (TZ + tzset + localtime_r) at steps of a few hours and
// bisecting each change to the second. Before 1900 the 1900 offset holds; after 2200 the offset no longer changes.
#include "system_time_zone.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace chronos_test {
namespace {

constexpr int64_t kFrom = -2208988800;  // 1900-01-01 00:00 UTC
constexpr int64_t kTo = 7258118400;     // 2200-01-01 00:00 UTC
constexpr int64_t kStep = 4 * 3600;

struct OffsetTable {
    std::string name;
    std::vector<int64_t> transitions;  // ascending Unix times at which the offset changes
    std::vector<int32_t> offsets;      // offsets[i] holds before transitions[i]; the last one after all of them
    chronos::TimeZone zone;
};

int32_t c_library_offset(int64_t unix_seconds) {
    time_t t = static_cast<time_t>(unix_seconds);
    struct tm fields;
    if (!localtime_r(&t, &fields)) throw std::runtime_error("localtime_r failed");
    return static_cast<int32_t>(fields.tm_gmtoff);
}

// Runs `body` with TZ set to `name`, then puts TZ back.
template <typename Body>
void with_tz(const char *name, Body body) {
    const char *previous = std::getenv("TZ");
    std::string saved = previous ? previous : "";
    setenv("TZ", name, 1);
    tzset();
    body();
    if (previous)
        setenv("TZ", saved.c_str(), 1);
    else
        unsetenv("TZ");
    tzset();
}

void tabulate(OffsetTable &table) {
    // The C library reads an unknown name as UTC without complaint; a test must not silently run in the wrong zone.
    if (!std::ifstream("/usr/share/zoneinfo/" + table.name))
        throw std::invalid_argument("no zoneinfo for " + table.name);
    with_tz(table.name.c_str(), [&] {
        int64_t at = kFrom;
        int32_t offset = c_library_offset(at);
        table.offsets.push_back(offset);
        while (at < kTo) {
            int64_t next = std::min(at + kStep, kTo);
            if (c_library_offset(next) == offset) {
                at = next;
                continue;
            }
            // The first second in (at, next] whose offset differs.
            int64_t low = at, high = next;
            while (high - low > 1) {
                int64_t middle = low + (high - low) / 2;
                (c_library_offset(middle) == offset ? low : high) = middle;
            }
            offset = c_library_offset(high);
            table.transitions.push_back(high);
            table.offsets.push_back(offset);
            at = high;
        }
    });
}

int32_t table_offset(const void *context, int64_t unix_seconds) {
    const auto &table = *static_cast<const OffsetTable *>(context);
    auto later = std::upper_bound(table.transitions.begin(), table.transitions.end(), unix_seconds);
    return table.offsets[later - table.transitions.begin()];
}

bool table_next_transition(const void *context, int64_t unix_seconds, int64_t *transition) {
    const auto &table = *static_cast<const OffsetTable *>(context);
    auto later = std::upper_bound(table.transitions.begin(), table.transitions.end(), unix_seconds);
    if (later == table.transitions.end()) return false;
    *transition = *later;
    return true;
}

}  // namespace

const chronos::TimeZone &system_zone(const char *name) {
    static std::map<std::string, std::unique_ptr<OffsetTable>> tables;
    auto found = tables.find(name);
    if (found != tables.end()) return found->second->zone;
    auto table = std::make_unique<OffsetTable>();
    table->name = name;
    tabulate(*table);
    table->zone = chronos::TimeZone{table.get(), table->name.c_str(), table_offset, table_next_transition};
    return tables.emplace(name, std::move(table)).first->second->zone;
}

}  // namespace chronos_test
