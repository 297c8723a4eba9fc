// Wall-clock times against instants (time_zone.cpp): unique, repeated and skipped local times, and PostgreSQL's reading
// of gap and fold times, in zones with one-hour, half-hour and quarter-hour shifts.
#include "time_zone.hpp"

#include "system_time_zone.hpp"
#include "timestamp_text.hpp"

#include <gtest/gtest.h>

using chronos::LocalMapping;
using chronos_test::show;
using chronos_test::system_zone;
using chronos_test::timestamp;

namespace {

// A wall-clock time written as text ("2026-03-08 02:30:00Z" read as local) in local seconds.
int64_t local_seconds(const std::string &text) {
    return timestamp(text + "Z") / chronos::kUsPerSecond + chronos::kPgEpochUnixSeconds;
}

std::string show_unix(int64_t unix_seconds, const char *zone) {
    return show((unix_seconds - chronos::kPgEpochUnixSeconds) * chronos::kUsPerSecond, system_zone(zone));
}

}  // namespace

TEST(SystemTimeZone, tabulated_offsets_match_the_zoneinfo) {
    const chronos::TimeZone &zone = system_zone("America/New_York");
    int64_t spring = timestamp("2026-03-08 07:00:00Z") / chronos::kUsPerSecond + chronos::kPgEpochUnixSeconds;
    EXPECT_EQ(zone.utc_offset(zone.context, spring - 1), -5 * 3600);
    EXPECT_EQ(zone.utc_offset(zone.context, spring), -4 * 3600);
    int64_t next = 0;
    ASSERT_TRUE(zone.next_transition(zone.context, spring - 1, &next));
    EXPECT_EQ(next, spring);
    ASSERT_TRUE(zone.next_transition(zone.context, spring, &next));
    EXPECT_EQ(show_unix(next, "America/New_York"), "2026-11-01 01:00:00-05");
}

TEST(SystemTimeZone, utc_never_changes_offset) {
    const chronos::TimeZone &zone = system_zone("UTC");
    int64_t next = 0;
    EXPECT_FALSE(zone.next_transition(zone.context, 0, &next));
    EXPECT_EQ(zone.utc_offset(zone.context, 1700000000), 0);
}

TEST(MapLocalTime, ordinary_time_has_one_instant) {
    LocalMapping mapping = map_local_time(system_zone("America/New_York"), local_seconds("2026-07-01 12:00:00"));
    EXPECT_EQ(mapping.kind, LocalMapping::unique);
    EXPECT_EQ(show_unix(mapping.first, "UTC"), "2026-07-01 16:00:00+00");
    EXPECT_EQ(mapping.second, mapping.first);
}

TEST(MapLocalTime, time_in_spring_forward_gap_maps_to_end_of_gap) {
    LocalMapping mapping = map_local_time(system_zone("America/New_York"), local_seconds("2026-03-08 02:30:00"));
    EXPECT_EQ(mapping.kind, LocalMapping::skipped);
    EXPECT_EQ(show_unix(mapping.first, "UTC"), "2026-03-08 07:00:00+00");
}

TEST(MapLocalTime, time_in_fall_back_fold_has_two_instants_an_hour_apart) {
    LocalMapping mapping = map_local_time(system_zone("America/New_York"), local_seconds("2026-11-01 01:30:00"));
    EXPECT_EQ(mapping.kind, LocalMapping::repeated);
    EXPECT_EQ(show_unix(mapping.first, "America/New_York"), "2026-11-01 01:30:00-04");
    EXPECT_EQ(show_unix(mapping.second, "America/New_York"), "2026-11-01 01:30:00-05");
}

TEST(MapLocalTime, gap_and_fold_include_their_start_and_exclude_their_end) {
    const chronos::TimeZone &zone = system_zone("America/New_York");
    EXPECT_EQ(map_local_time(zone, local_seconds("2026-03-08 02:00:00")).kind, LocalMapping::skipped);
    EXPECT_EQ(map_local_time(zone, local_seconds("2026-03-08 03:00:00")).kind, LocalMapping::unique);
    EXPECT_EQ(map_local_time(zone, local_seconds("2026-11-01 01:00:00")).kind, LocalMapping::repeated);
    EXPECT_EQ(map_local_time(zone, local_seconds("2026-11-01 02:00:00")).kind, LocalMapping::unique);
}

TEST(MapLocalTime, lord_howe_half_hour_gap_and_fold) {
    const chronos::TimeZone &zone = system_zone("Australia/Lord_Howe");
    LocalMapping gap = map_local_time(zone, local_seconds("2026-10-04 02:15:00"));
    EXPECT_EQ(gap.kind, LocalMapping::skipped);
    EXPECT_EQ(show_unix(gap.first, "Australia/Lord_Howe"), "2026-10-04 02:30:00+11");
    LocalMapping fold = map_local_time(zone, local_seconds("2026-04-05 01:45:00"));
    EXPECT_EQ(fold.kind, LocalMapping::repeated);
    EXPECT_EQ(fold.second - fold.first, 1800);
    EXPECT_EQ(show_unix(fold.first, "Australia/Lord_Howe"), "2026-04-05 01:45:00+11");
}

TEST(MapLocalTime, kathmandu_1986_change_skips_a_quarter_hour) {
    const chronos::TimeZone &zone = system_zone("Asia/Kathmandu");
    LocalMapping gap = map_local_time(zone, local_seconds("1986-01-01 00:10:00"));
    EXPECT_EQ(gap.kind, LocalMapping::skipped);
    EXPECT_EQ(show_unix(gap.first, "Asia/Kathmandu"), "1986-01-01 00:15:00+05:45");
    EXPECT_EQ(map_local_time(zone, local_seconds("1986-01-01 00:15:00")).kind, LocalMapping::unique);
}

TEST(ToLocalSeconds, adds_the_offset_in_force) {
    const chronos::TimeZone &zone = system_zone("Asia/Kathmandu");
    int64_t unix_seconds = timestamp("2026-06-01 00:00:00Z") / chronos::kUsPerSecond + chronos::kPgEpochUnixSeconds;
    EXPECT_EQ(chronos::to_local_seconds(zone, unix_seconds), local_seconds("2026-06-01 05:45:00"));
}

TEST(LocalToUnixLikePostgres, gap_time_reads_with_offset_before_the_transition) {
    int64_t instant =
        local_to_unix_like_postgres(system_zone("America/New_York"), local_seconds("2026-03-08 02:30:00"));
    EXPECT_EQ(show_unix(instant, "UTC"), "2026-03-08 07:30:00+00");
}

TEST(LocalToUnixLikePostgres, fold_time_reads_with_offset_after_the_transition) {
    int64_t instant =
        local_to_unix_like_postgres(system_zone("America/New_York"), local_seconds("2026-11-01 01:30:00"));
    EXPECT_EQ(show_unix(instant, "UTC"), "2026-11-01 06:30:00+00");
}

TEST(LocalToUnixLikePostgres, london_gap_and_fold) {
    const chronos::TimeZone &zone = system_zone("Europe/London");
    EXPECT_EQ(show_unix(local_to_unix_like_postgres(zone, local_seconds("2026-03-29 01:30:00")), "Europe/London"),
              "2026-03-29 02:30:00+01");
    EXPECT_EQ(show_unix(local_to_unix_like_postgres(zone, local_seconds("2026-10-25 01:30:00")), "Europe/London"),
              "2026-10-25 01:30:00+00");
}

TEST(LocalToUnixLikePostgres, ordinary_time_is_its_only_instant) {
    int64_t instant = local_to_unix_like_postgres(system_zone("Europe/London"), local_seconds("2026-07-01 12:00:00"));
    EXPECT_EQ(show_unix(instant, "UTC"), "2026-07-01 11:00:00+00");
}
