// Turns schedule text into a Schedule: picks the form (cron, @descriptor, @every / @after, "every …", interval text)
// and reads cron fields. The fire-time engine and describe_schedule work from the result; every rejection is a
// ScheduleError that names the field or token and what is allowed there.
#include "core.hpp"
#include "cron_days.hpp"
#include "interval_parse.hpp"
#include "schedule.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace chronos {
namespace {

const char kFormsHint[] =
    "For example \"*/15 * * * *\", \"@daily\", \"@every 10 minutes\", \"@after 1h\", \"10 minutes\" or "
    "\"every 2 days at 03:30\".";
const char kFormsList[] =
    "a cron expression (\"0 9 * * MON-FRI\"), a descriptor (@hourly, @daily, @weekly, @monthly, @yearly), "
    "@every <interval>, @after <interval>, an interval (\"10 minutes\") or \"every N days at hh:mm\"";
const char kEveryDaysHint[] = "For example \"every day at 03:30\" or \"every 2 weeks at 08:00:00\".";

struct FieldSpec {
    const char *name;
    int min;
    int max;           // the largest value that may be written (7 for day-of-week: Sunday again)
    int wildcard_max;  // where `*` and `a/n` stop (6 for day-of-week)
    const char *allowed;
    const char *hint;
};

const FieldSpec kSecondField = {"second",
                                0,
                                59,
                                59,
                                "0-59, lists (0,30), ranges (0-29) and steps (*/10)",
                                "For example \"*/10 * * * * *\" runs every 10 seconds."};
const FieldSpec kMinuteField = {"minute",
                                0,
                                59,
                                59,
                                "0-59, lists (0,30), ranges (0-29) and steps (*/15)",
                                "For example \"*/15 * * * *\" runs every 15 minutes."};
const FieldSpec kHourField = {"hour",
                              0,
                              23,
                              23,
                              "0-23, lists (1,5), ranges (9-17) and steps (*/2)",
                              "For example \"0 9-17 * * MON-FRI\" runs on the hour from 09:00 to 17:00 on weekdays."};
const FieldSpec kDayOfMonthField = {
    "day-of-month",
    1,
    31,
    31,
    "1-31, L or $ (the last day), lists (1,15), ranges (1-7), steps (*/2) and ? (any day)",
    "For example \"0 0 1,15 * *\" runs at midnight on the 1st and 15th, \"0 0 L * *\" on the last day of the month."};
const FieldSpec kMonthField = {"month",
                               1,
                               12,
                               12,
                               "1-12 or JAN-DEC, lists (1,7), ranges (JAN-MAR) and steps (*/3)",
                               "For example \"0 0 1 JAN,JUL *\" runs at midnight on January 1 and July 1."};
const FieldSpec kDayOfWeekField = {
    "day-of-week",
    0,
    7,
    6,
    "0-7 or SUN-SAT (0 and 7 are Sunday), lists (1,3), ranges (MON-FRI), steps (*/2), ? (any day), nL for the last "
    "weekday n of the month (5L) and n#k for its k-th weekday n (MON#2)",
    "For example \"0 9 * * MON-FRI\" runs at 09:00 on weekdays, \"0 0 * * 5L\" on the last Friday of the month."};

constexpr std::string_view kMonthAbbreviations[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                    "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::string_view kWeekdayAbbreviations[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
const char *const kMonthNames[] = {"",     "January", "February",  "March",   "April",    "May",     "June",
                                   "July", "August",  "September", "October", "November", "December"};

struct Descriptor {
    std::string_view name;
    std::string_view cron;
};
constexpr Descriptor kDescriptors[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
};

std::string quoted(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return lower_ascii(a) == lower_ascii(b);
}

bool is_digits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

// Parts between separators, empty parts kept.
std::vector<std::string_view> split_on(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (size_t at = text.find(separator); at != std::string_view::npos; at = text.find(separator, start)) {
        parts.push_back(text.substr(start, at - start));
        start = at + 1;
    }
    parts.push_back(text.substr(start));
    return parts;
}

std::vector<std::string_view> split_blanks(std::string_view text) {
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < text.size()) {
        if (is_blank(text[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < text.size() && !is_blank(text[i])) i++;
        words.push_back(text.substr(start, i - start));
    }
    return words;
}

[[noreturn]] void fail_field(const FieldSpec &spec, std::string_view token, const char *problem) {
    throw ScheduleError("The " + std::string(spec.name) + " field " + quoted(token) + " " + problem + ": allowed are " +
                            spec.allowed + ".",
                        spec.hint);
}

// A number in the field's range, or a month / weekday name. A range ending in SUN means Sunday at the end of the week.
int read_field_value(const FieldSpec &spec, std::string_view text, std::string_view element, bool ends_range) {
    if (is_digits(text)) {
        if (text.size() > 2) fail_field(spec, element, "is out of range");
        int value = std::stoi(std::string(text));
        if (value < spec.min || value > spec.max) fail_field(spec, element, "is out of range");
        return value;
    }
    if (&spec == &kMonthField)
        for (int i = 0; i < 12; i++)
            if (equals_ignoring_case(text, kMonthAbbreviations[i])) return i + 1;
    if (&spec == &kDayOfWeekField)
        for (int i = 0; i < 7; i++)
            if (equals_ignoring_case(text, kWeekdayAbbreviations[i])) return i == 0 && ends_range ? 7 : i;
    fail_field(spec, element, "is not valid");
}

int read_step(const FieldSpec &spec, std::string_view text, std::string_view element) {
    if (!is_digits(text)) fail_field(spec, element, "has a step that is not a number");
    int step = text.size() > 2 ? spec.wildcard_max + 1 : std::stoi(std::string(text));
    if (step < 1 || step > spec.wildcard_max)
        throw ScheduleError("The " + std::string(spec.name) + " field " + quoted(element) + " has a step of " +
                                std::string(text) + ": a step must be between 1 and " +
                                std::to_string(spec.wildcard_max) + ".",
                            spec.hint);
    return step;
}

std::string format_range(int low, int high) {
    return low == high ? std::to_string(low) : std::to_string(low) + "-" + std::to_string(high);
}

// Bits of one list element: `*`, `?`, `a`, `a-b`, each optionally followed by `/step` (`a/step` runs to the field's
// end).
uint64_t read_range_element(const FieldSpec &spec, std::string_view element) {
    size_t slash = element.find('/');
    std::string_view base = element.substr(0, slash);
    int low = 0;
    int high = 0;
    if (base == "*" || base == "?") {
        if (base == "?" && &spec != &kDayOfMonthField && &spec != &kDayOfWeekField)
            fail_field(spec, element, "is not valid (? is only for the day fields)");
        low = spec.min;
        high = spec.wildcard_max;
    } else if (size_t dash = base.find('-'); dash != std::string_view::npos) {
        low = read_field_value(spec, base.substr(0, dash), element, false);
        high = read_field_value(spec, base.substr(dash + 1), element, true);
        if (low > high)
            throw ScheduleError("The " + std::string(spec.name) + " field " + quoted(element) +
                                    " is a range whose start comes after its end; ranges do not wrap around.",
                                "Write it as a list instead, for example " +
                                    quoted(format_range(low, spec.wildcard_max) + "," + format_range(spec.min, high)) +
                                    ".");
    } else {
        low = read_field_value(spec, base, element, false);
        high = slash == std::string_view::npos ? low : std::max(low, spec.wildcard_max);
    }
    int step = slash == std::string_view::npos ? 1 : read_step(spec, element.substr(slash + 1), element);
    uint64_t bits = 0;
    for (int value = low; value <= high; value += step) bits |= uint64_t{1} << value;
    return bits;
}

std::vector<std::string_view> split_list(const FieldSpec &spec, std::string_view field) {
    std::vector<std::string_view> elements = split_on(field, ',');
    for (std::string_view element : elements)
        if (element.empty()) fail_field(spec, field, "has an empty list element");
    return elements;
}

uint64_t read_plain_field(const FieldSpec &spec, std::string_view field) {
    uint64_t bits = 0;
    for (std::string_view element : split_list(spec, field)) bits |= read_range_element(spec, element);
    return bits;
}

void read_day_of_month(std::string_view field, CronFields &cron) {
    uint64_t bits = 0;
    for (std::string_view element : split_list(kDayOfMonthField, field)) {
        if (equals_ignoring_case(element, "L") || element == "$")
            cron.last_day_of_month = true;
        else
            bits |= read_range_element(kDayOfMonthField, element);
    }
    cron.days_of_month = std::bitset<32>(bits);
    const uint64_t every_day = 0xFFFFFFFEull;
    cron.day_of_month_restricted = cron.last_day_of_month || (bits & every_day) != every_day;
}

// Weekday number 0..6 of the `n` in `nL` / `n#k`.
int read_weekday(std::string_view text, std::string_view element) {
    return read_field_value(kDayOfWeekField, text, element, false) % 7;
}

void read_day_of_week(std::string_view field, CronFields &cron) {
    uint64_t bits = 0;
    bool has_extras = false;
    for (std::string_view element : split_list(kDayOfWeekField, field)) {
        if (size_t hash = element.find('#'); hash != std::string_view::npos) {
            int weekday = read_weekday(element.substr(0, hash), element);
            std::string_view nth = element.substr(hash + 1);
            if (nth.size() != 1 || nth[0] < '1' || nth[0] > '5')
                throw ScheduleError("The day-of-week field " + quoted(element) +
                                        " asks for an occurrence outside 1-5: n#k takes k from 1 (first) to 5 (fifth).",
                                    kDayOfWeekField.hint);
            cron.nth_weekday[weekday][nth[0] - '0'] = true;
            has_extras = true;
        } else if (element.size() > 1 && (element.back() == 'L' || element.back() == 'l')) {
            cron.last_weekday_of_month[read_weekday(element.substr(0, element.size() - 1), element)] = true;
            has_extras = true;
        } else {
            bits |= read_range_element(kDayOfWeekField, element);
        }
    }
    if (bits & (uint64_t{1} << 7)) bits |= 1;
    cron.days_of_week = std::bitset<7>(bits & 0x7F);
    cron.day_of_week_restricted = has_extras || !cron.days_of_week.all();
}

std::string join_month_names(const std::bitset<13> &months) {
    std::vector<std::string> names;
    for (int month = 1; month <= 12; month++)
        if (months[month]) names.push_back(kMonthNames[month]);
    std::string joined;
    for (size_t i = 0; i < names.size(); i++)
        joined += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    return joined;
}

// Rejects `0 0 30 2 *` and friends. Only day-of-month numbers can miss every selected month: `L`, a weekday and the
// either-or rule always leave some day.
void require_can_fire(const CronFields &cron, std::string_view day_of_month_text) {
    if (can_ever_fire(cron)) return;
    int first_month = 1;
    while (!cron.months[first_month]) first_month++;
    std::string months = join_month_names(cron.months);
    std::string detail =
        cron.days_of_month.count() == 1
            ? "Day-of-month " + std::string(day_of_month_text) + " never occurs in " + months
            : "The day-of-month field " + quoted(day_of_month_text) + " names no day that occurs in " + months;
    throw ScheduleError(detail + ", so the schedule can never run.",
                        "For example \"0 0 L " + std::to_string(first_month) + " *\" runs on the last day of " +
                            kMonthNames[first_month] + ".");
}

CronFields read_cron(const std::vector<std::string_view> &fields) {
    CronFields cron;
    cron.has_seconds = fields.size() == 6;
    size_t at = cron.has_seconds ? 1 : 0;
    cron.seconds = cron.has_seconds ? std::bitset<60>(read_plain_field(kSecondField, fields[0])) : std::bitset<60>(1);
    cron.minutes = std::bitset<60>(read_plain_field(kMinuteField, fields[at]));
    cron.hours = std::bitset<24>(read_plain_field(kHourField, fields[at + 1]));
    read_day_of_month(fields[at + 2], cron);
    cron.months = std::bitset<13>(read_plain_field(kMonthField, fields[at + 3]));
    read_day_of_week(fields[at + 4], cron);
    require_can_fire(cron, fields[at + 2]);
    return cron;
}

bool is_cron_character(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '?' || c == ',' || c == '-' || c == '/';
}

// Cron if the first two words (seconds / minutes / hours) are made of cron characters only, or any word holds * or ?.
// "1 day 2 hours" and "10 minutes" are not; "0 0 * *" is, and is then rejected for its field count.
bool looks_like_cron(const std::vector<std::string_view> &words) {
    for (std::string_view word : words)
        if (word.find_first_of("*?") != std::string_view::npos) return true;
    if (words.size() < 3) return false;
    for (size_t i = 0; i < 2; i++)
        for (char c : words[i])
            if (!is_cron_character(c)) return false;
    return true;
}

Schedule cron_schedule(const std::vector<std::string_view> &fields) {
    if (fields.size() != 5 && fields.size() != 6)
        throw ScheduleError(
            "A cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; "
            "found " +
                std::to_string(fields.size()) + ".",
            kHourField.hint);
    Schedule schedule;
    schedule.kind = ScheduleKind::cron;
    schedule.cron = read_cron(fields);
    return schedule;
}

// `@yearly` … `@hourly`, `@every <interval>`, `@after <interval>`.
Schedule at_form_schedule(std::string_view text) {
    size_t word_end = 0;
    while (word_end < text.size() && !is_blank(text[word_end])) word_end++;
    std::string word = lower_ascii(text.substr(0, word_end));
    std::string_view rest = trim_blanks(text.substr(word_end));
    Schedule schedule;
    if (word == "@every" || word == "@after") {
        if (rest.empty())
            throw ScheduleError("The form " + quoted(word) + " needs an interval after it.",
                                "For example \"" + word + " 5m\" or \"" + word + " 1 hour\".");
        schedule.kind = word == "@every" ? ScheduleKind::fixed_rate : ScheduleKind::fixed_delay;
        schedule.interval = parse_duration(rest);
        return schedule;
    }
    for (const Descriptor &descriptor : kDescriptors) {
        if (word != descriptor.name) continue;
        if (!rest.empty())
            throw ScheduleError(
                "The descriptor " + quoted(word) + " takes nothing after it; found " + quoted(rest) + ".",
                "For example \"" + word + "\" on its own.");
        schedule = cron_schedule(split_blanks(descriptor.cron));
        schedule.descriptor = word;
        return schedule;
    }
    throw ScheduleError("The descriptor " + quoted(word) +
                            " is not known: allowed are @yearly, @annually, @monthly, @weekly, @daily, @midnight, "
                            "@hourly, @every <interval> and @after <interval>.",
                        "For example \"@daily\" runs at midnight, \"@every 15m\" every 15 minutes.");
}

// hh:mm or hh:mm:ss as seconds since midnight.
int32_t read_time_of_day(std::string_view text) {
    std::vector<std::string_view> parts = split_on(text, ':');
    bool well_formed = (parts.size() == 2 || parts.size() == 3) && is_digits(parts[0]) && parts[0].size() <= 2;
    for (size_t i = 1; well_formed && i < parts.size(); i++) well_formed = is_digits(parts[i]) && parts[i].size() == 2;
    int values[3] = {0, 0, 0};
    for (size_t i = 0; well_formed && i < parts.size(); i++) values[i] = std::stoi(std::string(parts[i]));
    if (!well_formed || values[0] > 23 || values[1] > 59 || values[2] > 59)
        throw ScheduleError("The time " + quoted(text) +
                                " is not a time of day: write hh:mm or hh:mm:ss with hours 0-23 and minutes and "
                                "seconds 0-59.",
                            kEveryDaysHint);
    return values[0] * 3600 + values[1] * 60 + values[2];
}

// `every [N] day(s)|week(s) at hh:mm[:ss]`; `words` are those between "every" and "at".
EveryDays read_every_days(const std::vector<std::string_view> &words, std::string_view time, std::string_view text) {
    std::string unit = words.empty() ? "" : lower_ascii(words.back());
    bool in_weeks = unit == "week" || unit == "weeks";
    if (words.empty() || words.size() > 2 || (!in_weeks && unit != "day" && unit != "days"))
        throw ScheduleError(
            "The word \"at\" in " + quoted(text) + " can only follow days or weeks, as in \"every 2 days at 03:00\".",
            "For a time within each hour use cron, for example \"30 */2 * * *\" runs at half past "
            "every second hour.");
    int64_t count = 1;
    if (words.size() == 2) count = is_digits(words[0]) && words[0].size() <= 9 ? std::stoll(std::string(words[0])) : 0;
    // At most 100 years (36525 days), like every interval.
    constexpr int64_t kMaxDays = kMaxIntervalSeconds / kSecondsPerDay;
    if (count < 1 || count * (in_weeks ? 7 : 1) > kMaxDays)
        throw ScheduleError("The count " + quoted(words[0]) + " in " + quoted(text) +
                                " must be a whole number between 1 and " +
                                std::to_string(kMaxDays / (in_weeks ? 7 : 1)) + " (at most 100 years).",
                            kEveryDaysHint);
    EveryDays every;
    every.days = static_cast<int32_t>(count * (in_weeks ? 7 : 1));
    every.in_weeks = in_weeks;
    every.second_of_day = read_time_of_day(time);
    return every;
}

// `every N days at hh:mm` (every_days) or `every <interval>` (fixed rate; "every hour" means one hour).
Schedule every_form_schedule(std::string_view text) {
    std::vector<std::string_view> words = split_blanks(text);
    words.erase(words.begin());
    Schedule schedule;
    for (size_t i = 0; i < words.size(); i++) {
        if (!equals_ignoring_case(words[i], "at")) continue;
        if (i + 2 != words.size())
            throw ScheduleError(
                "The schedule " + quoted(text) + " needs exactly one time of day after \"at\", such as 03:30.",
                kEveryDaysHint);
        schedule.kind = ScheduleKind::every_days;
        schedule.every = read_every_days({words.begin(), words.begin() + i}, words[i + 1], text);
        return schedule;
    }
    if (words.empty())
        throw ScheduleError("The schedule \"every\" needs an interval or a period and time after it.",
                            "For example \"every 5 minutes\" or \"every day at 03:30\".");
    std::string_view interval = text.substr(static_cast<size_t>(words[0].data() - text.data()));
    bool unit_only = words.size() == 1 && std::isalpha(static_cast<unsigned char>(interval[0]));
    schedule.kind = ScheduleKind::fixed_rate;
    schedule.interval = parse_duration(unit_only ? "1 " + std::string(interval) : std::string(interval));
    return schedule;
}

bool starts_like_interval(std::string_view text) {
    char first = text.front();
    return std::isdigit(static_cast<unsigned char>(first)) || first == '.' || first == '@' || first == '-';
}

}  // namespace

Schedule parse_schedule(std::string_view text) {
    std::string_view trimmed = trim_blanks(text);
    if (trimmed.empty())
        throw ScheduleError("The schedule is empty: write " + std::string(kFormsList) + ".", kFormsHint);
    std::vector<std::string_view> words = split_blanks(trimmed);
    Schedule schedule;
    if (trimmed[0] == '@' && trimmed.size() > 1 && std::isalpha(static_cast<unsigned char>(trimmed[1])))
        schedule = at_form_schedule(trimmed);
    else if (equals_ignoring_case(words[0], "every"))
        schedule = every_form_schedule(trimmed);
    else if (looks_like_cron(words))
        schedule = cron_schedule(words);
    else if (starts_like_interval(trimmed)) {
        schedule.kind = ScheduleKind::fixed_rate;
        schedule.interval = parse_interval_text(trimmed);
    } else
        throw ScheduleError("The text " + quoted(trimmed) + " is not a schedule: write " + kFormsList + ".",
                            kFormsHint);
    schedule.text = std::string(trimmed);
    return schedule;
}

}  // namespace chronos
