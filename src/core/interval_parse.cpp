// Reads the interval half of the schedule grammar (@every, @after, every <interval>, plain interval text) into a
// CalendarInterval. PostgreSQL interval text follows PostgreSQL's interval input rules for the units it accepts,
// including how fractions spill into smaller units; Go durations are exact elapsed time.
#include "interval_parse.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

namespace chronos {
namespace {

constexpr int64_t kUsPerMinute = 60 * kUsPerSecond;
constexpr int64_t kUsPerHour = 60 * kUsPerMinute;
constexpr int64_t kUsPerDay = kSecondsPerDay * kUsPerSecond;
constexpr int kDaysPerMonth = 30;
constexpr int kMonthsPerYear = 12;

const char kIntervalHint[] = "For example \"10 minutes\", \"1 day 2 hours\", \"01:30:00\" or \"@every 1h30m\".";
const char kUnitList[] =
    "microseconds (us), milliseconds (ms), seconds (s, sec), minutes (m, min), hours (h, hr), days (d), weeks (w), "
    "months (mon), years (y, yr), decades and centuries";

enum class Unit { microsecond, millisecond, second, minute, hour, day, week, month, year, decade, century, millennium };

// Every spelling PostgreSQL accepts for a unit (empty entries pad the array).
struct UnitSpellings {
    Unit unit;
    std::array<std::string_view, 7> names;
};

constexpr UnitSpellings kUnitSpellings[] = {
    {Unit::microsecond, {"us", "usec", "usecs", "usecond", "useconds", "microsecond", "microseconds"}},
    {Unit::millisecond, {"ms", "msec", "msecs", "msecond", "mseconds", "millisecond", "milliseconds"}},
    {Unit::second, {"s", "sec", "secs", "second", "seconds"}},
    {Unit::minute, {"m", "min", "mins", "minute", "minutes"}},
    {Unit::hour, {"h", "hr", "hrs", "hour", "hours"}},
    {Unit::day, {"d", "day", "days"}},
    {Unit::week, {"w", "week", "weeks"}},
    {Unit::month, {"mon", "mons", "month", "months"}},
    {Unit::year, {"y", "yr", "yrs", "year", "years"}},
    {Unit::decade, {"dec", "decs", "decade", "decades"}},
    {Unit::century, {"c", "cent", "century", "centuries"}},
    {Unit::millennium, {"mil", "mils", "millennium", "millennia"}},
};

// Which parts of an interval a field has given; PostgreSQL rejects text that gives one twice ("1 hour 2 hours").
uint32_t unit_mask(Unit unit) {
    return 1u << static_cast<int>(unit);
}
constexpr uint32_t kAllSecondsMask = (1u << static_cast<int>(Unit::second)) |
                                     (1u << static_cast<int>(Unit::millisecond)) |
                                     (1u << static_cast<int>(Unit::microsecond));
constexpr uint32_t kClockMask =
    kAllSecondsMask | (1u << static_cast<int>(Unit::minute)) | (1u << static_cast<int>(Unit::hour));

[[noreturn]] void fail_interval(const std::string &detail) {
    throw ScheduleError(detail, kIntervalHint);
}

std::string quoted(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

[[noreturn]] void fail_too_large(std::string_view text) {
    fail_interval("The interval " + quoted(text) + " is too large.");
}

const Unit *find_unit(std::string_view word) {
    for (const UnitSpellings &spellings : kUnitSpellings)
        for (std::string_view name : spellings.names)
            if (!name.empty() && name == word) return &spellings.unit;
    return nullptr;
}

// An interval while it is read: like PostgreSQL, years are kept apart from months until the end.
struct IntervalSum {
    int64_t years = 0;
    int64_t months = 0;
    int64_t days = 0;
    int64_t microseconds = 0;
};

// A number split as PostgreSQL splits it: the integer part exactly, the fraction as a double.
struct IntervalNumber {
    int64_t whole = 0;
    double fraction = 0;
};

class IntervalReader {
public:
    explicit IntervalReader(std::string_view text) : text_(text) {}

    CalendarInterval read();

private:
    struct Token {
        enum Kind { number, clock, word } kind;
        std::string text;
    };

    std::vector<Token> split_tokens() const;
    void add_number_with_unit(const Token &number, const Token &unit_word);
    void add_clock(const std::string &clock);
    void claim(uint32_t mask, const std::string &what);
    IntervalNumber read_number(const std::string &number) const;

    void check_int32(int64_t value) const {
        if (value > std::numeric_limits<int32_t>::max()) fail_too_large(text_);
    }
    void add_scaled_microseconds(int64_t value, int64_t scale);
    void add_fraction_microseconds(double fraction, int64_t scale);
    void add_fraction_days(double fraction, int scale);
    void add_days(int64_t value, int scale);

    std::string_view text_;
    IntervalSum sum_;
    uint32_t seen_ = 0;
};

std::vector<IntervalReader::Token> IntervalReader::split_tokens() const {
    std::vector<Token> tokens;
    size_t i = 0;
    auto at = [&](size_t k) { return k < text_.size() ? text_[k] : '\0'; };
    while (i < text_.size()) {
        char c = text_[i];
        if (is_blank(c) || c == '@' || c == ',') {
            i++;
        } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
            size_t start = i;
            Token::Kind kind = Token::number;
            while (std::isdigit(static_cast<unsigned char>(at(i)))) i++;
            if (at(i) == ':') {
                kind = Token::clock;
                while (std::isdigit(static_cast<unsigned char>(at(i))) || at(i) == ':' || at(i) == '.') i++;
            } else if (at(i) == '.') {
                i++;
                while (std::isdigit(static_cast<unsigned char>(at(i)))) i++;
            }
            if (at(i) == '.' || at(i) == '-' || at(i) == '/' || at(i) == ':') {
                size_t end = i;
                while (end < text_.size() && !is_blank(text_[end])) end++;
                fail_interval("The part " + quoted(text_.substr(start, end - start)) + " of the interval " +
                              quoted(text_) + " is not valid: write a number followed by a unit, or hh:mm[:ss].");
            }
            tokens.push_back({kind, std::string(text_.substr(start, i - start))});
        } else if (std::isalpha(static_cast<unsigned char>(c))) {
            size_t start = i;
            while (std::isalpha(static_cast<unsigned char>(at(i)))) i++;
            tokens.push_back({Token::word, lower_ascii(text_.substr(start, i - start))});
        } else if (c == '-') {
            fail_interval("The interval " + quoted(text_) + " is negative: a schedule interval must be positive.");
        } else {
            // The whole character: a lead byte and its UTF-8 continuation bytes.
            size_t end = i + 1;
            while (end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) end++;
            fail_interval("The character " + quoted(text_.substr(i, end - i)) + " is not valid in the interval " +
                          quoted(text_) + ".");
        }
    }
    return tokens;
}

CalendarInterval IntervalReader::read() {
    std::vector<Token> tokens = split_tokens();
    if (tokens.empty()) fail_interval("The interval " + quoted(text_) + " is empty.");
    for (size_t i = 0; i < tokens.size(); i++) {
        const Token &token = tokens[i];
        if (token.kind == Token::clock) {
            add_clock(token.text);
        } else if (token.kind == Token::number) {
            if (i + 1 == tokens.size() || tokens[i + 1].kind != Token::word)
                fail_interval("The number " + quoted(token.text) + " in the interval " + quoted(text_) +
                              " has no unit: units are " + kUnitList + ".");
            add_number_with_unit(token, tokens[i + 1]);
            i++;
        } else if (token.text == "ago") {
            fail_interval("The interval " + quoted(text_) +
                          " is negative (\"ago\"): a schedule interval must be positive.");
        } else if (find_unit(token.text) != nullptr) {
            fail_interval("The unit " + quoted(token.text) + " in the interval " + quoted(text_) +
                          " has no number before it.");
        } else {
            fail_interval("The word " + quoted(token.text) + " in the interval " + quoted(text_) +
                          " is not a unit: units are " + kUnitList + ".");
        }
    }
    int64_t months = 0;
    if (__builtin_mul_overflow(sum_.years, kMonthsPerYear, &months) ||
        __builtin_add_overflow(months, sum_.months, &months))
        fail_too_large(text_);
    check_int32(months);
    check_int32(sum_.days);
    CalendarInterval interval;
    interval.months = static_cast<int32_t>(months);
    interval.days = static_cast<int32_t>(sum_.days);
    interval.microseconds = sum_.microseconds;
    return interval;
}

void IntervalReader::claim(uint32_t mask, const std::string &what) {
    if (seen_ & mask)
        fail_interval("The interval " + quoted(text_) + " gives the same unit more than once (at " + quoted(what) +
                      "): write each unit once.");
    seen_ |= mask;
}

IntervalNumber IntervalReader::read_number(const std::string &number) const {
    IntervalNumber result;
    size_t dot = number.find('.');
    for (size_t i = 0; i < std::min(dot, number.size()); i++) {
        if (__builtin_mul_overflow(result.whole, 10, &result.whole) ||
            __builtin_add_overflow(result.whole, number[i] - '0', &result.whole))
            fail_too_large(text_);
    }
    if (dot != std::string::npos && dot + 1 < number.size())
        result.fraction = std::strtod(number.c_str() + dot, nullptr);
    return result;
}

void IntervalReader::add_scaled_microseconds(int64_t value, int64_t scale) {
    int64_t product = 0;
    if (__builtin_mul_overflow(value, scale, &product) ||
        __builtin_add_overflow(sum_.microseconds, product, &sum_.microseconds))
        fail_too_large(text_);
}

// A fraction below one of `scale` microseconds, rounded to the nearest microsecond as PostgreSQL rounds it.
void IntervalReader::add_fraction_microseconds(double fraction, int64_t scale) {
    if (fraction == 0) return;
    double scaled = fraction * static_cast<double>(scale);
    int64_t microseconds = static_cast<int64_t>(scaled);
    if (scaled - static_cast<double>(microseconds) > 0.5) microseconds++;
    add_scaled_microseconds(microseconds, 1);
}

// A fraction of `scale` days: whole days to the day count, the rest of a day to elapsed time.
void IntervalReader::add_fraction_days(double fraction, int scale) {
    if (fraction == 0) return;
    double scaled = fraction * scale;
    int extra_days = static_cast<int>(scaled);
    add_days(extra_days, 1);
    add_fraction_microseconds(scaled - extra_days, kUsPerDay);
}

void IntervalReader::add_days(int64_t value, int scale) {
    check_int32(value);
    sum_.days += value * scale;
    check_int32(sum_.days);
}

void IntervalReader::add_number_with_unit(const Token &number, const Token &unit_word) {
    const Unit *unit = find_unit(unit_word.text);
    if (unit == nullptr)
        fail_interval("The unit " + quoted(unit_word.text) + " in the interval " + quoted(text_) +
                      " is not known: units are " + kUnitList + ".");
    std::string written = number.text + " " + unit_word.text;
    IntervalNumber value = read_number(number.text);
    uint32_t mask = unit_mask(*unit);
    if (*unit == Unit::second && value.fraction != 0) mask = kAllSecondsMask;
    claim(mask, written);
    auto add_years = [&](int scale) {
        check_int32(value.whole);
        sum_.years += value.whole * scale;
        check_int32(sum_.years);
        sum_.months += static_cast<int>(std::rint(value.fraction * scale * kMonthsPerYear));
    };
    switch (*unit) {
        case Unit::microsecond:
            add_scaled_microseconds(value.whole, 1);
            add_fraction_microseconds(value.fraction, 1);
            break;
        case Unit::millisecond:
            add_scaled_microseconds(value.whole, 1000);
            add_fraction_microseconds(value.fraction, 1000);
            break;
        case Unit::second:
            add_scaled_microseconds(value.whole, kUsPerSecond);
            add_fraction_microseconds(value.fraction, kUsPerSecond);
            break;
        case Unit::minute:
            add_scaled_microseconds(value.whole, kUsPerMinute);
            add_fraction_microseconds(value.fraction, kUsPerMinute);
            break;
        case Unit::hour:
            add_scaled_microseconds(value.whole, kUsPerHour);
            add_fraction_microseconds(value.fraction, kUsPerHour);
            break;
        case Unit::day:
            add_days(value.whole, 1);
            add_fraction_microseconds(value.fraction, kUsPerDay);
            break;
        case Unit::week:
            add_days(value.whole, 7);
            add_fraction_days(value.fraction, 7);
            break;
        case Unit::month:
            check_int32(value.whole);
            sum_.months += value.whole;
            check_int32(sum_.months);
            add_fraction_days(value.fraction, kDaysPerMonth);
            break;
        case Unit::year:
            add_years(1);
            break;
        case Unit::decade:
            add_years(10);
            break;
        case Unit::century:
            add_years(100);
            break;
        case Unit::millennium:
            add_years(1000);
            break;
    }
}

// Elapsed time written hh:mm, hh:mm:ss[.fraction] or, with a fraction and two parts, mm:ss.fraction.
void IntervalReader::add_clock(const std::string &clock) {
    claim(kClockMask, clock);
    auto fail_clock = [&] {
        fail_interval("The time " + quoted(clock) + " in the interval " + quoted(text_) +
                      " is not valid: write hh:mm or hh:mm:ss with minutes and seconds 0-59.");
    };
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t colon = clock.find(':'); start != std::string::npos; colon = clock.find(':', start)) {
        parts.push_back(clock.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
        start = colon == std::string::npos ? colon : colon + 1;
    }
    if (parts.size() > 3) fail_clock();
    for (size_t i = 0; i < parts.size(); i++) {
        size_t dot = parts[i].find('.');
        bool last = i + 1 == parts.size();
        if (parts[i].empty() || dot == 0 || (dot != std::string::npos && (!last || i == 0))) fail_clock();
    }
    std::string seconds_text = parts.size() == 3 ? parts[2] : "0";
    int64_t hours = read_number(parts[0]).whole;
    IntervalNumber minutes = read_number(parts[1]);
    if (parts.size() == 2 && parts[1].find('.') != std::string::npos) {
        seconds_text = parts[1];
        minutes.whole = hours;
        hours = 0;
    }
    IntervalNumber seconds = read_number(seconds_text);
    int64_t fraction_us = static_cast<int64_t>(std::rint(seconds.fraction * 1000000));
    if (minutes.whole > 59 || seconds.whole > 60 || fraction_us > kUsPerSecond) fail_clock();
    add_scaled_microseconds(hours, kUsPerHour);
    add_scaled_microseconds(minutes.whole, kUsPerMinute);
    add_scaled_microseconds(seconds.whole, kUsPerSecond);
    add_scaled_microseconds(fraction_us, 1);
}

// At least 1 second and at most 100 years (kMaxIntervalSeconds, a month counting as the average Gregorian month).
void require_supported_length(const CalendarInterval &interval, std::string_view text) {
    if (interval.months == 0 && interval.days == 0 && interval.microseconds < kUsPerSecond)
        fail_interval("The interval " + quoted(text) + " is too short: an interval must be at least 1 second.");
    const double seconds = static_cast<double>(interval.months) * kAverageMonthSeconds +
                           static_cast<double>(interval.days) * kSecondsPerDay +
                           static_cast<double>(interval.microseconds) / kUsPerSecond;
    if (seconds > static_cast<double>(kMaxIntervalSeconds))
        fail_interval("The interval " + quoted(text) + " is too long: an interval is at most 100 years.");
}

// Go's units, longest spelling first so that "ms" is not read as "m".
struct GoUnit {
    std::string_view name;
    int64_t nanoseconds;
};
constexpr GoUnit kGoUnits[] = {
    {"ns", 1},       {"us", 1000},      {"\xC2\xB5s", 1000}, {"\xCE\xBCs", 1000},
    {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000},  {"h", 3600000000000},
};

// A Go duration: one or more <decimal><unit>, no blanks. Returns false when the text is not written that way, so the
// caller can read it as PostgreSQL interval text instead.
bool read_go_duration(std::string_view text, int64_t *microseconds) {
    int64_t total_ns = 0;
    size_t i = 0;
    auto is_digit = [&](size_t k) { return k < text.size() && std::isdigit(static_cast<unsigned char>(text[k])); };
    if (text.empty()) return false;
    while (i < text.size()) {
        int64_t whole = 0;
        int64_t fraction = 0;
        double fraction_scale = 1;
        size_t digits = 0;
        for (; is_digit(i); i++, digits++)
            if (__builtin_mul_overflow(whole, 10, &whole) || __builtin_add_overflow(whole, text[i] - '0', &whole))
                fail_too_large(text);
        if (i < text.size() && text[i] == '.') {
            for (i++; is_digit(i); i++, digits++) {
                if (fraction_scale < 1e15) {
                    fraction = fraction * 10 + (text[i] - '0');
                    fraction_scale *= 10;
                }
            }
        }
        if (digits == 0) return false;
        size_t unit_start = i;
        while (i < text.size() && text[i] != '.' && !is_digit(i)) i++;
        std::string_view unit_name = text.substr(unit_start, i - unit_start);
        const GoUnit *unit = nullptr;
        for (const GoUnit &candidate : kGoUnits)
            if (candidate.name == unit_name) unit = &candidate;
        if (unit == nullptr) return false;
        int64_t part = 0;
        if (__builtin_mul_overflow(whole, unit->nanoseconds, &part) ||
            __builtin_add_overflow(part, static_cast<int64_t>(fraction * (unit->nanoseconds / fraction_scale)),
                                   &part) ||
            __builtin_add_overflow(total_ns, part, &total_ns))
            fail_too_large(text);
    }
    *microseconds = total_ns / 1000;
    return true;
}

}  // namespace

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim_blanks(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
    return text;
}

std::string lower_ascii(std::string_view text) {
    std::string lower(text);
    for (char &c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
}

CalendarInterval parse_interval_text(std::string_view text) {
    text = trim_blanks(text);
    CalendarInterval interval = IntervalReader(text).read();
    require_supported_length(interval, text);
    return interval;
}

CalendarInterval parse_duration(std::string_view text) {
    text = trim_blanks(text);
    int64_t microseconds = 0;
    if (!read_go_duration(lower_ascii(text), &microseconds)) return parse_interval_text(text);
    CalendarInterval interval;
    interval.microseconds = microseconds;
    require_supported_length(interval, text);
    return interval;
}

}  // namespace chronos
