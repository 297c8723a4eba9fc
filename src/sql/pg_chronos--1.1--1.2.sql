-- pg_chronos 1.1 → 1.2 (ALTER EXTENSION pg_chronos UPDATE). Brings a 1.1 catalog to exactly what a fresh 1.2 install
-- creates (the install script runs this same script after 1.0 → 1.1; test/t/200_upgrade.pl compares an updated 1.0 and
-- an updated 1.1 catalog with a fresh one); tasks, listeners, history and grants are kept.
\echo Use "ALTER EXTENSION pg_chronos UPDATE" to load this file. \quit
