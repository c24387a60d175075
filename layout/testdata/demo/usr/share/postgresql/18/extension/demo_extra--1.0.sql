/* demo_extra--1.0.sql */

\echo Use "CREATE EXTENSION demo_extra CASCADE" to load this file. \quit

CREATE FUNCTION @extschema@.greet(who text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN demo_hello('Hello, ' || who);
