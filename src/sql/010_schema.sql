-- pg_chronos install script, joined from src/sql/ in file-name order by the Makefile.
\echo Use "CREATE EXTENSION pg_chronos" to load this file. \quit

COMMENT ON SCHEMA chronos IS 'pg_chronos: scheduled SQL run by background workers';
