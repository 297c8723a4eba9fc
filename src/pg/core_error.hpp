// The one bridge from the core's failures to PostgreSQL errors: a CoreError (plain data) becomes an ereport(ERROR).
#pragma once
#include "core/engine.hpp"
#include "postgres.hpp"

// Raises the error described by `error` with SQLSTATE 22023 (invalid_parameter_value). Never returns.
pg_attribute_noreturn() void raise_core_error(const chronos::CoreError *error);
