/* demo--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION demo UPDATE TO '1.1'" to load this file. \quit

CREATE FUNCTION demo_version() RETURNS text
AS '$libdir/demo', 'demo_version'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
