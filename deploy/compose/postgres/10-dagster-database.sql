-- Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d):
-- the app database (POSTGRES_DB=frameforge) is created by the image, the Dagster instance
-- gets a database of its own.
CREATE DATABASE dagster;
