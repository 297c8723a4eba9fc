# PGXS build of the extension: the shared library (src/core + src/pg), the install script joined from src/sql/, and the tests.
#   make && make install      build and install (install needs write access to PostgreSQL's directories)
#   make installcheck         pg_regress (sql/, expected/) and TAP (test/t/) on temporary clusters; run as a non-root user

EXTENSION  = pg_chronos
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = pg_chronos
CORE_OBJS  = $(patsubst %.cpp,%.o,$(sort $(wildcard src/core/*.cpp)))
PG_OBJS    = $(patsubst %.cpp,%.o,$(sort $(wildcard src/pg/*.cpp)))
OBJS       = $(CORE_OBJS) $(PG_OBJS)

# The current version's install script is joined from the numbered parts; released versions' install scripts and the
# upgrade scripts between versions are kept as they shipped (pg_chronos--1.0.sql never changes).
SQL_PARTS  = $(sort $(wildcard src/sql/[0-9]*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA       = $(filter-out src/sql/$(EXTENSION)--$(EXTVERSION).sql,$(wildcard src/sql/$(EXTENSION)--*.sql))
EXTRA_CLEAN = tmp_regress results regression.diffs regression.out

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-instance=tmp_regress --temp-config=test/regress.conf --load-extension=$(EXTENSION)
TAP_TESTS    = 1
PROVE_TESTS ?= $(sort $(wildcard test/t/*.pl))

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -Isrc
PG_CXXFLAGS = -std=c++17 -Wno-register
SHLIB_LINK  = -lstdc++
# The LLVM bitcode rules do not pass the C++ flags.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# After the include: Makefile.global resets PROVE_FLAGS.
PROVE_FLAGS += -I test/perl

# src/core never sees PostgreSQL's include directories, so a PostgreSQL header there fails to compile.
src/core/%.o: src/core/%.cpp
	$(CXX) -std=c++17 $(CXXFLAGS) -fPIC -c -o $@ $<

$(OBJS): $(wildcard src/core/*.hpp src/pg/*.hpp)

$(DATA_built): $(SQL_PARTS) $(EXTENSION).control
	cat $(SQL_PARTS) > $@
