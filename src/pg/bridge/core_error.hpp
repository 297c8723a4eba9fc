// The one bridge from the core's failures to PostgreSQL errors: a CoreError (plain data) becomes an ereport(ERROR).
#pragma once
#include "core/engine.hpp"
#include "pg/postgres.hpp"

// Raises the error described by `error`: SQLSTATE 22023 (invalid_parameter_value) for a bad schedule or argument,
// 22008 (datetime_field_overflow) for a time outside the supported range. Texts are cut at whole characters of the
// database encoding. Never returns.
pg_attribute_noreturn() void raise_core_error(const chronos::CoreError *error);
