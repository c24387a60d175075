/* demo--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION demo" to load this file. \quit

CREATE FUNCTION demo_hello(text) RETURNS text
AS 'MODULE_PATHNAME', 'demo_hello'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION demo_version() RETURNS text
AS '$libdir/demo', 'demo_version'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
