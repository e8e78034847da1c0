-- One database per service (HUB_DATABASE_URL_<SERVICE> in infra/docker-compose.yml); each service
-- makes its own schema and tables in it. Run once, when the data volume is new
-- (/docker-entrypoint-initdb.d of the postgres image).
CREATE DATABASE registry;
CREATE DATABASE riskpoints;
CREATE DATABASE dangers;
CREATE DATABASE filing;
CREATE DATABASE notifications;
CREATE DATABASE audit;
CREATE DATABASE console;  -- the console's read model (HUB_DATABASE_URL_CONSOLE)
-- The test suite's default database (tests/conftest.py: postgresql://root@127.0.0.1:5432/hub_test).
CREATE DATABASE hub_test;
