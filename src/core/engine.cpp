// The noexcept wall between the core and PostgreSQL: every exception stops here and becomes text in a CoreError.
#include "engine.hpp"

#include "schedule.hpp"

#include <cstdio>
#include <cstring>
#include <exception>

namespace chronos {

static_assert(static_cast<int>(ScheduleKind::cron) == static_cast<int>(EngineKind::cron) &&
                  static_cast<int>(ScheduleKind::fixed_rate) == static_cast<int>(EngineKind::fixed_rate) &&
                  static_cast<int>(ScheduleKind::fixed_delay) == static_cast<int>(EngineKind::fixed_delay) &&
                  static_cast<int>(ScheduleKind::every_days) == static_cast<int>(EngineKind::every_days),
              "EngineKind mirrors ScheduleKind");

namespace {

void copy_text(char *to, size_t size, const char *from) {
    std::snprintf(to, size, "%s", from ? from : "");
}

void set_error(CoreError *error, const char *message, const char *detail, const char *hint) {
    copy_text(error->message, sizeof error->message, message);
    copy_text(error->detail, sizeof error->detail, detail);
    copy_text(error->hint, sizeof error->hint, hint);
}

// Runs `body`, turning any exception into `error`. Returns whether `body` completed.
template <typename Body>
bool guarded(const char *schedule, CoreError *error, Body body) noexcept {
    try {
        body();
        return true;
    } catch (const ScheduleError &e) {
        char message[256];
        std::snprintf(message, sizeof message, "invalid schedule \"%s\"", schedule ? schedule : "");
        set_error(error, message, e.detail().c_str(), e.hint().c_str());
    } catch (const std::exception &e) {
        set_error(error, "schedule computation failed", e.what(), "");
    } catch (...) {
        set_error(error, "schedule computation failed", "unknown error", "");
    }
    return false;
}

}  // namespace

bool engine_check_schedule(const char *schedule, EngineKind *kind, CoreError *error) noexcept {
    return guarded(schedule, error, [&] { *kind = static_cast<EngineKind>(parse_schedule(schedule).kind); });
}

bool engine_next_fires(const char *schedule, TimestampUs after, TimestampUs anchor, const TimeZone *zone, int count,
                       TimestampUs *out, CoreError *error) noexcept {
    return guarded(schedule, error, [&] {
        Schedule parsed = parse_schedule(schedule);
        TimestampUs at = after;
        for (int i = 0; i < count; i++) {
            at = next_fire(parsed, at, anchor, *zone);
            out[i] = at;
        }
    });
}

bool engine_first_fire(const char *schedule, TimestampUs start, TimestampUs not_before, const TimeZone *zone,
                       TimestampUs *out, CoreError *error) noexcept {
    return guarded(schedule, error, [&] {
        Schedule parsed = parse_schedule(schedule);
        if (not_before <= start)
            *out = first_fire(parsed, start, *zone);
        else if (parsed.kind == ScheduleKind::fixed_delay)
            *out = not_before;
        else
            *out = next_fire(parsed, not_before - 1, start, *zone);
    });
}

bool engine_next_fire(const char *schedule, TimestampUs start, TimestampUs after, const TimeZone *zone,
                      TimestampUs *out, CoreError *error) noexcept {
    return guarded(schedule, error, [&] { *out = next_fire(parse_schedule(schedule), after, start, *zone); });
}

bool engine_after_run(const TaskPolicy *policy, const RunFacts *run, const TimeZone *zone, NextState *out,
                      CoreError *error) noexcept {
    return guarded(policy->schedule, error, [&] { *out = after_run(*policy, *run, *zone); });
}

bool engine_catch_up(const TaskPolicy *policy, TimestampUs slot, TimestampUs now, int32_t max_catch_up,
                     const TimeZone *zone, CatchUpDecision *out, CoreError *error) noexcept {
    return guarded(policy->schedule, error,
                   [&] { *out = decide_catch_up(*policy, slot, now, max_catch_up, *zone); });
}

bool engine_describe(const char *schedule, const char *zone_name, char *out, size_t out_size, CoreError *error) noexcept {
    return guarded(schedule, error, [&] {
        copy_text(out, out_size, describe_schedule(parse_schedule(schedule), zone_name).c_str());
    });
}

}  // namespace chronos
