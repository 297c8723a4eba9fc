// The noexcept wall between the core and PostgreSQL: every exception stops here and becomes text in a CoreError.
#include "engine.hpp"

#include "schedule.hpp"

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <exception>
#include <string>

namespace chronos {

static_assert(static_cast<int>(ScheduleKind::cron) == static_cast<int>(EngineKind::cron) &&
                  static_cast<int>(ScheduleKind::fixed_rate) == static_cast<int>(EngineKind::fixed_rate) &&
                  static_cast<int>(ScheduleKind::fixed_delay) == static_cast<int>(EngineKind::fixed_delay) &&
                  static_cast<int>(ScheduleKind::every_days) == static_cast<int>(EngineKind::every_days),
              "EngineKind mirrors ScheduleKind");

namespace {

const char kRangeHint[] = "Times of tasks lie between 1900-01-01 and 8999-12-31 (UTC); intervals are at most 100 years.";

void set_error(CoreError *error, CoreError::Kind kind, const char *message, const char *detail, const char *hint) {
    error->kind = kind;
    copy_utf8_text(error->message, sizeof error->message, message);
    copy_utf8_text(error->detail, sizeof error->detail, detail);
    copy_utf8_text(error->hint, sizeof error->hint, hint);
}

// A schedule as quoted in a message: at most 200 bytes of it (cut at a character boundary), then "...".
std::string shortened(const char *schedule) {
    constexpr size_t kShown = 200;
    if (schedule == nullptr) return "";
    if (std::strlen(schedule) <= kShown) return schedule;
    char prefix[kShown + 1];
    copy_utf8_text(prefix, sizeof prefix, schedule);
    return std::string(prefix) + "...";
}

// Runs `body`, turning any exception into `error`. Returns whether `body` completed.
template <typename Body>
bool guarded(const char *schedule, CoreError *error, Body body) noexcept {
    try {
        body();
        return true;
    } catch (const ScheduleError &e) {
        const std::string message = "invalid schedule \"" + shortened(schedule) + "\"";
        set_error(error, CoreError::invalid_value, message.c_str(), e.detail().c_str(), e.hint().c_str());
    } catch (const std::out_of_range &e) {
        set_error(error, CoreError::out_of_range, "schedule computation out of range", e.what(), kRangeHint);
    } catch (const std::overflow_error &e) {
        set_error(error, CoreError::out_of_range, "schedule computation out of range", e.what(), kRangeHint);
    } catch (const std::exception &e) {
        set_error(error, CoreError::invalid_value, "schedule computation failed", e.what(), "");
    } catch (...) {
        set_error(error, CoreError::invalid_value, "schedule computation failed", "unknown error", "");
    }
    return false;
}

}  // namespace

bool engine_check_schedule(const char *schedule, EngineKind *kind, CoreError *error) noexcept {
    return guarded(schedule, error, [&] { *kind = static_cast<EngineKind>(parse_schedule(schedule).kind); });
}

bool engine_next_fires(const char *schedule, TimestampUs after, TimestampUs anchor, const TimeZone *zone, int count,
                       TimestampUs *out, int *produced, CoreError *error) noexcept {
    *produced = 0;
    return guarded(schedule, error, [&] {
        Schedule parsed = parse_schedule(schedule);
        TimestampUs at = after;
        for (int i = 0; i < count; i++) {
            at = next_fire(parsed, at, anchor, *zone);
            if (at >= kLatestTaskTimeUs) break;
            out[i] = at;
            *produced = i + 1;
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
        if (*out >= kLatestTaskTimeUs)
            throw std::out_of_range("The schedule's first run would be after 8999-12-31, the end of the supported range.");
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

bool engine_describe(const char *schedule, const char *zone_name, char *out, size_t out_size, size_t *length,
                     CoreError *error) noexcept {
    return guarded(schedule, error, [&] {
        const std::string description = describe_schedule(parse_schedule(schedule), zone_name);
        *length = description.size();
        if (out_size > 0) {
            const size_t n = std::min(description.size(), out_size - 1);
            std::memcpy(out, description.data(), n);
            out[n] = '\0';
        }
    });
}

void copy_utf8_text(char *to, size_t size, const char *from) noexcept {
    if (size == 0) return;
    if (from == nullptr) from = "";
    size_t n = std::strlen(from);
    if (n >= size) {
        n = size - 1;
        // Back up over continuation bytes (10xxxxxx) to the lead byte of the character cut in two, and drop it too.
        size_t lead = n;
        while (lead > 0 && (static_cast<unsigned char>(from[lead]) & 0xC0) == 0x80) lead--;
        n = lead;
    }
    std::memcpy(to, from, n);
    to[n] = '\0';
}

}  // namespace chronos
