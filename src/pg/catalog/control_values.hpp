// Checks of the values users write in a task's controls, as text (the validation trigger, task_trigger.cpp).
#pragma once
#include "pg/postgres.hpp"

// Whether `value` is one of the NULL-terminated list `allowed`.
bool one_of(const char *value, const char *const *allowed);
// An interval's length in microseconds, a month counting as the average Gregorian month (as the core counts it), and
// whether all its parts are >= 0.
double interval_length_us(const char *text, bool *non_negative);
// Between `min_us` and 100 years (chronos::kMaxIntervalUs), every part >= 0.
bool interval_in_range(const char *text, int64 min_us);
// An integer column's text (int4 or int8 output) within [low, high].
bool integer_in_range(const char *text, int64 low, int64 high);
