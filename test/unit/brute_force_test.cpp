// Cross-checks the fire-time engine against naive walks. Random cron text (5 and 6 fields, lists, ranges, steps, L, nL,
// n#k) is parsed and its fire times compared with a walk over every minute or second that applies the DST rules to each
// instant directly; random fixed-rate intervals are compared with add_interval(anchor, k·interval) for k = 0, 1, 2, …
#include "schedule.hpp"

#include "system_time_zone.hpp"
#include "timestamp_text.hpp"

#include <boost/date_time/gregorian/gregorian.hpp>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

using chronos::TimestampUs;

const char *const kZones[] = {"America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"};
const char *const kWeekdayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr int64_t kYear1990 = 631152000;  // Unix seconds
constexpr int64_t kYear2080 = 3471292800;
constexpr int64_t kKathmanduChange = 504901800;  // 1985-12-31 18:30 UTC: +05:30 becomes +05:45

class Random {
public:
    explicit Random(uint32_t seed) : engine_(seed) {}
    int64_t between(int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(engine_); }
    bool chance(double p) { return std::bernoulli_distribution(p)(engine_); }
    template <typename T, size_t N>
    const T &pick(const T (&items)[N]) {
        return items[between(0, N - 1)];
    }

private:
    std::mt19937 engine_;
};

// One random element of a numeric cron field whose values run from `low` to `high`.
std::string random_element(Random &random, int low, int high) {
    int a = static_cast<int>(random.between(low, high));
    int b = static_cast<int>(random.between(a, high));
    switch (random.between(0, 4)) {
        case 0:
            return "*/" + std::to_string(random.between(2, std::min(15, high)));
        case 1:
            return std::to_string(a) + "-" + std::to_string(b);
        case 2:
            return std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(random.between(2, 5));
        case 3:
            return std::to_string(a) + "/" + std::to_string(random.between(2, 10));
        default:
            return std::to_string(a);
    }
}

std::string random_list(Random &random, int low, int high) {
    std::string list = random_element(random, low, high);
    for (int extra = static_cast<int>(random.between(0, 2)); extra > 0; extra--)
        list += "," + random_element(random, low, high);
    return list;
}

// Hours biased towards the small hours, where DST changes happen (01:00-03:00 in the zones tested, midnight in
// Kathmandu).
std::string random_hours(Random &random) {
    if (random.chance(0.4)) return "*";
    if (random.chance(0.5)) return random_list(random, 0, 3);
    return random_list(random, 0, 23);
}

std::string random_day_of_month(Random &random) {
    if (random.chance(0.6)) return "*";
    if (random.chance(0.2)) return random.chance(0.5) ? "L" : "L," + random_list(random, 1, 31);
    return random_list(random, 1, 31);
}

std::string random_day_of_week(Random &random) {
    if (random.chance(0.55)) return "*";
    std::string weekday =
        random.chance(0.5) ? kWeekdayNames[random.between(0, 6)] : std::to_string(random.between(0, 7));
    switch (random.between(0, 4)) {
        case 0:
            return weekday + "L";
        case 1:
            return weekday + "#" + std::to_string(random.between(1, 5));
        case 2:
            return "MON-FRI";
        default:
            return random_list(random, 0, 7);
    }
}

std::string random_cron_text(Random &random, bool with_seconds) {
    std::string text;
    if (with_seconds) text = (random.chance(0.3) ? "*" : random_list(random, 0, 59)) + " ";
    text += (random.chance(0.2) ? "*" : random_list(random, 0, 59)) + " ";
    text += random_hours(random) + " ";
    text += random_day_of_month(random) + " ";
    text += (random.chance(0.8) ? "*" : random_list(random, 1, 12)) + " ";
    return text + random_day_of_week(random);
}

// Whether a wall-clock time matches the fields, decided from the calendar date directly.
class NaiveMatcher {
public:
    explicit NaiveMatcher(const chronos::CronFields &cron) : cron_(cron) {}

    bool matches(int64_t local_seconds) {
        int64_t day = local_seconds / chronos::kSecondsPerDay;  // the walks stay after 1970
        int second_of_day = static_cast<int>(local_seconds - day * chronos::kSecondsPerDay);
        if (!cron_.hours[second_of_day / 3600] || !cron_.minutes[second_of_day / 60 % 60] ||
            !cron_.seconds[second_of_day % 60])
            return false;
        if (day != cached_day_) {
            cached_day_ = day;
            cached_match_ = day_matches(boost::gregorian::date(1970, 1, 1) + boost::gregorian::date_duration(day));
        }
        return cached_match_;
    }

private:
    bool day_matches(const boost::gregorian::date &date) const {
        const int month = date.month(), day = date.day(), weekday = date.day_of_week();
        const int length = date.end_of_month().day();
        if (!cron_.months[month]) return false;
        bool by_month_day = cron_.days_of_month[day] || (cron_.last_day_of_month && day == length);
        bool by_weekday = cron_.days_of_week[weekday] || (cron_.last_weekday_of_month[weekday] && day > length - 7) ||
                          cron_.nth_weekday[weekday][(day + 6) / 7];
        if (cron_.day_of_month_restricted && cron_.day_of_week_restricted) return by_month_day || by_weekday;
        if (cron_.day_of_month_restricted) return by_month_day;
        if (cron_.day_of_week_restricted) return by_weekday;
        return true;
    }

    const chronos::CronFields &cron_;
    int64_t cached_day_ = -1;
    bool cached_match_ = false;
};

// Walks instants one step (a minute or a second) at a time, deciding for each whether the schedule fires there.
class NaiveWalk {
public:
    NaiveWalk(const chronos::CronFields &cron, const chronos::TimeZone &zone)
        : cron_(cron), zone_(zone), matcher_(cron), step_(cron.has_seconds ? 1 : 60) {}

    // The first fire instant in (after, until], or -1.
    int64_t first_fire(int64_t after, int64_t until) {
        for (int64_t instant = (after / step_ + 1) * step_; instant <= until; instant += step_)
            if (fires_at(instant)) return instant;
        return -1;
    }

private:
    int32_t offset(int64_t instant) const { return zone_.utc_offset(zone_.context, instant); }

    bool fires_at(int64_t instant) {
        const int64_t local = instant + offset(instant);
        if (cron_.every_hour()) return matcher_.matches(local);
        if (matcher_.matches(local) && !occurred_earlier(instant, local)) return true;
        return gap_ends_at(instant) && gap_holds_a_match(instant);
    }

    // Whether the clock already read `local` before `instant`: some offset in force earlier that day gives it.
    bool occurred_earlier(int64_t instant, int64_t local) const {
        int64_t transition = instant - chronos::kSecondsPerDay;
        while (zone_.next_transition(zone_.context, transition, &transition) && transition <= instant) {
            int64_t earlier = local - offset(transition - 1);
            if (earlier < transition && earlier + offset(earlier) == local) return true;
        }
        return false;
    }

    bool gap_ends_at(int64_t instant) const { return offset(instant) > offset(instant - 1); }

    bool gap_holds_a_match(int64_t gap_end) {
        for (int64_t local = gap_end + offset(gap_end - 1); local < gap_end + offset(gap_end); local += step_)
            if (matcher_.matches(local)) return true;
        return false;
    }

    const chronos::CronFields &cron_;
    const chronos::TimeZone &zone_;
    NaiveMatcher matcher_;
    const int64_t step_;
};

TimestampUs from_unix(int64_t unix_seconds) {
    return (unix_seconds - chronos::kPgEpochUnixSeconds) * 1000000;
}

// A start instant: anywhere in 1990-2080, or (more than half the time) shortly before or after a DST change.
int64_t random_start(Random &random, const chronos::TimeZone &zone, int64_t before, int64_t after) {
    int64_t start = random.between(kYear1990, kYear2080);
    if (random.chance(0.4)) return start;
    int64_t transition = 0;
    if (std::string(zone.name) == "Asia/Kathmandu")
        transition = kKathmanduChange;
    else if (!zone.next_transition(zone.context, start, &transition))
        return start;
    return transition + random.between(-before, after);
}

struct CronRun {
    int expressions = 0;
    int fires_compared = 0;
    int windows_without_fire = 0;
};

void cross_check_cron(bool with_seconds, int expressions, uint32_t seed, CronRun &run) {
    Random random(seed);
    const int64_t window = with_seconds ? 4 * 3600 : 3 * chronos::kSecondsPerDay;
    while (run.expressions < expressions) {
        const std::string text = random_cron_text(random, with_seconds);
        chronos::Schedule schedule;
        try {
            schedule = chronos::parse_schedule(text);
        } catch (const chronos::ScheduleError &) {
            continue;  // e.g. day 31 in months that have no day 31
        }
        run.expressions++;
        const char *zone_name = random.pick(kZones);
        const chronos::TimeZone &zone = chronos_test::system_zone(zone_name);
        NaiveWalk walk(schedule.cron, zone);
        int64_t after = random_start(random, zone, with_seconds ? 5400 : chronos::kSecondsPerDay, 7200);
        const int64_t until = after + window;
        TimestampUs after_us = from_unix(after) + (random.chance(0.3) ? random.between(0, 999999) : 0);
        for (int fire = 0; fire < 4; fire++) {
            const int64_t expected = walk.first_fire(after, until);
            const TimestampUs engine = chronos::next_fire(schedule, after_us, after_us, zone);
            SCOPED_TRACE("\"" + text + "\" in " + zone_name + " after " + chronos_test::show(after_us, zone));
            if (expected < 0) {
                run.windows_without_fire++;
                ASSERT_GT(engine, from_unix(until)) << "engine: " << chronos_test::show(engine, zone);
                break;
            }
            ASSERT_EQ(chronos_test::show(engine, zone), chronos_test::show(from_unix(expected), zone));
            run.fires_compared++;
            after = expected;
            after_us = from_unix(expected);
        }
    }
}

}  // namespace

TEST(BruteForce, five_field_cron_matches_minute_by_minute_walk) {
    CronRun run;
    cross_check_cron(false, 2500, 20260308, run);
    EXPECT_GT(run.fires_compared, 5000);
    std::printf("%d expressions, %d fires compared, %d windows without a fire\n", run.expressions, run.fires_compared,
                run.windows_without_fire);
}

TEST(BruteForce, six_field_cron_matches_second_by_second_walk) {
    CronRun run;
    cross_check_cron(true, 1200, 20261101, run);
    EXPECT_GT(run.fires_compared, 1500);
    std::printf("%d expressions, %d fires compared, %d windows without a fire\n", run.expressions, run.fires_compared,
                run.windows_without_fire);
}

TEST(BruteForce, fixed_rate_matches_anchor_plus_k_intervals) {
    Random random(4242);
    int compared = 0;
    for (int i = 0; i < 1500; i++) {
        const char *zone_name = random.pick(kZones);
        const chronos::TimeZone &zone = chronos_test::system_zone(zone_name);
        chronos::CalendarInterval interval;
        if (random.chance(0.5)) interval.months = static_cast<int32_t>(random.between(0, 14));
        if (random.chance(0.5)) interval.days = static_cast<int32_t>(random.between(0, 40));
        if (random.chance(0.5) || (interval.months == 0 && interval.days == 0))
            interval.microseconds = random.between(1, 48 * 3600) * 1000000 + (random.chance(0.2) ? 250000 : 0);
        chronos::Schedule schedule = chronos_test::interval_schedule(chronos::ScheduleKind::fixed_rate, interval.months,
                                                                     interval.days, interval.microseconds);
        const TimestampUs anchor =
            from_unix(random_start(random, zone, 40 * chronos::kSecondsPerDay, 3600)) + random.between(0, 999999);
        constexpr int kSlots = 40;
        std::vector<TimestampUs> slots;
        for (int k = 0; k < kSlots; k++) {
            chronos::CalendarInterval scaled{interval.months * k, interval.days * k, interval.microseconds * k};
            slots.push_back(add_interval(anchor, scaled, zone));
        }
        for (int probe = 0; probe < 5; probe++) {
            const TimestampUs after = anchor + random.between(-3600000000LL, slots[kSlots / 2] - anchor);
            TimestampUs expected = INT64_MAX;
            for (TimestampUs slot : slots)
                if (slot > after) expected = std::min(expected, slot);
            ASSERT_EQ(chronos_test::show(chronos::next_fire(schedule, after, anchor, zone), zone),
                      chronos_test::show(expected, zone))
                << "interval " << interval.months << " months " << interval.days << " days " << interval.microseconds
                << " us in " << zone_name << " from " << chronos_test::show(anchor, zone);
            compared++;
        }
    }
    EXPECT_EQ(compared, 7500);
}
