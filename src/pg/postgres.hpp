// PostgreSQL's headers for C++: standard, Boost and src/core headers come first (PostgreSQL's macros break them otherwise;
// core.hpp refuses to follow postgres.h), then postgres.h and fmgr.h inside extern "C". Every file of src/pg includes this
// after its C++ headers and before any other PostgreSQL header.
#pragma once

#include <climits>
#include <cstdio>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/engine.hpp"
#include "core/http_rules.hpp"
#include "core/time_zone.hpp"

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}
