// pg_chronos's GUCs (defined in module.cpp; documented in the README).
#pragma once
#include "postgres.hpp"

extern bool chronos_enabled;      // chronos.enabled: workers claim tasks only while true
extern int chronos_max_workers;   // chronos.max_workers: runs in progress at once, cluster-wide
