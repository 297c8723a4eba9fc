// Cost of one next_fire call for representative schedules, with the schedule parsed once (what the worker does after a
// run) and parsed on every call (what engine_next_fires does). Time zones come from the system zoneinfo.
#include "schedule.hpp"
#include "system_time_zone.hpp"

#include <benchmark/benchmark.h>

#include <vector>

namespace {

struct Case {
    const char *schedule;
    const char *zone;
};

const Case kCases[] = {
    {"*/15 9-17 * * MON-FRI", "America/New_York"},
    {"30 2 * * *", "America/New_York"},
    {"0 * * * *", "Europe/London"},
    {"0 0 29 2 *", "UTC"},
    {"0 0 * * 5L", "UTC"},
    {"*/5 * * * * *", "UTC"},
    {"@every 10m", "UTC"},
    {"1 month", "America/New_York"},
    {"every 3 days at 08:00", "America/New_York"},
};

// Start instants spread over a few years, so the calls see every season (and DST changes) rather than one cached path.
std::vector<chronos::TimestampUs> spread_instants() {
    std::vector<chronos::TimestampUs> instants;
    const chronos::TimestampUs start = 820000000LL * chronos::kUsPerSecond;  // 2025-12-26
    for (int i = 0; i < 1024; i++) instants.push_back(start + i * 97303LL * chronos::kUsPerSecond + i * 7919);
    return instants;
}

void next_fire_parsed_once(benchmark::State &state) {
    const Case &c = kCases[state.range(0)];
    const chronos::TimeZone &zone = chronos_test::system_zone(c.zone);
    const chronos::Schedule schedule = chronos::parse_schedule(c.schedule);
    const std::vector<chronos::TimestampUs> instants = spread_instants();
    const chronos::TimestampUs anchor = instants.front();
    size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(chronos::next_fire(schedule, instants[i], anchor, zone));
        i = (i + 1) % instants.size();
    }
    state.SetLabel(std::string(c.schedule) + " (" + c.zone + ")");
}

void next_fire_parsed_each_call(benchmark::State &state) {
    const Case &c = kCases[state.range(0)];
    const chronos::TimeZone &zone = chronos_test::system_zone(c.zone);
    const std::vector<chronos::TimestampUs> instants = spread_instants();
    const chronos::TimestampUs anchor = instants.front();
    size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(chronos::next_fire(chronos::parse_schedule(c.schedule), instants[i], anchor, zone));
        i = (i + 1) % instants.size();
    }
    state.SetLabel(std::string(c.schedule) + " (" + c.zone + ")");
}

constexpr int kCaseCount = sizeof kCases / sizeof kCases[0];

}  // namespace

BENCHMARK(next_fire_parsed_once)->DenseRange(0, kCaseCount - 1);
BENCHMARK(next_fire_parsed_each_call)->DenseRange(0, kCaseCount - 1);

BENCHMARK_MAIN();
