# PGXS build of the extension: the shared library (src/core + src/pg), the install script joined from src/sql/, and the tests.
#   make && make install      build and install (install needs write access to PostgreSQL's directories)
#   make installcheck         pg_regress (sql/, expected/) and TAP (test/t/) on temporary clusters; run as a non-root user

EXTENSION  = pg_chronos
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = pg_chronos
CORE_OBJS  = $(patsubst %.cpp,%.o,$(sort $(wildcard src/core/*.cpp)))
PG_OBJS    = $(patsubst %.cpp,%.o,$(sort $(shell find src/pg -name '*.cpp')))
OBJS       = $(CORE_OBJS) $(PG_OBJS)

# The current version's install script is generated: src/sql/install_guard.sql, then the released 1.0 script and every
# update script after it, in version order (PostgreSQL would follow the same chain by itself). Released scripts never
# change; each version's changes are in its update script only, so each SQL object has one source.
UPDATE_SCRIPTS = $(shell ls src/sql/$(EXTENSION)--*--*.sql | sort -V)
DATA       = src/sql/$(EXTENSION)--1.0.sql $(UPDATE_SCRIPTS)
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
EXTRA_CLEAN = tmp_regress results regression.diffs regression.out

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-instance=tmp_regress --temp-config=test/regress.conf --load-extension=$(EXTENSION)
TAP_TESTS    = 1
PROVE_TESTS ?= $(sort $(wildcard test/t/*.pl))

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -Isrc
PG_CXXFLAGS = -std=c++17 -Wno-register
SHLIB_LINK  = -lstdc++ -lcurl
# The LLVM bitcode rules do not pass the C++ flags.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# After the include: Makefile.global resets PROVE_FLAGS.
PROVE_FLAGS += -I test/perl

# src/core never sees PostgreSQL's include directories, so a PostgreSQL header there fails to compile.
src/core/%.o: src/core/%.cpp
	$(CXX) -std=c++17 $(CXXFLAGS) -fPIC -c -o $@ $<

$(OBJS): $(wildcard src/core/*.hpp) $(shell find src/pg -name '*.hpp')

$(DATA_built): src/sql/install_guard.sql src/sql/$(EXTENSION)--1.0.sql $(UPDATE_SCRIPTS) $(EXTENSION).control
	{ cat src/sql/install_guard.sql; for f in src/sql/$(EXTENSION)--1.0.sql $(UPDATE_SCRIPTS); do \
	    echo; grep -v '^\\echo' $$f; done; } > $@
