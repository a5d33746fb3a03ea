-- One PostgreSQL server, one database per service (a service never reads another's tables).
-- Run once by the postgres image on first start (docker-compose.yml mounts it into
-- /docker-entrypoint-initdb.d/). Locally: psql -h 127.0.0.1 -U postgres -f deploy/postgres-init.sql
CREATE DATABASE demeu_campaigns;
CREATE DATABASE demeu_payments;
CREATE DATABASE demeu_notifications;
CREATE DATABASE demeu_talent;
