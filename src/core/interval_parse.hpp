// The interval half of the schedule grammar, shared by schedule_parse.cpp: PostgreSQL interval text and Go durations,
// read into a CalendarInterval exactly as PostgreSQL's interval input stores them. Both throw ScheduleError.
#pragma once
#include "core.hpp"
#include "schedule.hpp"

#include <string>
#include <string_view>

namespace chronos {

// PostgreSQL interval text: "10 minutes", "1 day 2 hours", "1.5 years", "01:30:00", "@ 2 weeks".
CalendarInterval parse_interval_text(std::string_view text);

// What follows @every / @after / every: a Go duration ("1h30m", "500ms") or else PostgreSQL interval text.
// The result is at least one second long.
CalendarInterval parse_duration(std::string_view text);

// The schedule text's case-folding and blank rules, shared by both parse files.
bool is_blank(char c);
std::string_view trim_blanks(std::string_view text);
std::string lower_ascii(std::string_view text);

}  // namespace chronos
