-- The embedded engine's tables (PostgreSQL). Records are JSON documents beside the columns queries need.
-- value_key uses the C collation so prefix filters are byte ranges an index can serve.
CREATE TABLE pools (
  id TEXT PRIMARY KEY,
  data TEXT NOT NULL
);
CREATE TABLE clients (
  id TEXT PRIMARY KEY,
  pool_id TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX clients_by_pool ON clients (pool_id);
CREATE TABLE users (
  pool_id TEXT NOT NULL,
  sub TEXT NOT NULL,
  username_key TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (pool_id, sub)
);
CREATE UNIQUE INDEX users_by_username ON users (pool_id, username_key);
-- One row per attribute (and the pseudo-attributes username, sub, status, cognito:user_status), for filters.
-- value_key is the value as filters compare it: lowercased for username and email.
CREATE TABLE user_attributes (
  pool_id TEXT NOT NULL,
  sub TEXT NOT NULL,
  name TEXT NOT NULL,
  value_key TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (pool_id, sub, name)
);
CREATE INDEX user_attributes_by_value ON user_attributes (pool_id, name, value_key, sub);
CREATE TABLE groups (
  pool_id TEXT NOT NULL,
  name TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (pool_id, name)
);
CREATE TABLE user_groups (
  pool_id TEXT NOT NULL,
  group_name TEXT NOT NULL,
  sub TEXT NOT NULL,
  PRIMARY KEY (pool_id, group_name, sub)
);
CREATE INDEX user_groups_by_user ON user_groups (pool_id, sub);
CREATE TABLE codes (
  pool_id TEXT NOT NULL,
  sub TEXT NOT NULL,
  purpose TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (pool_id, sub, purpose)
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  pool_id TEXT NOT NULL,
  sub TEXT NOT NULL,
  expires_ms BIGINT NOT NULL,
  data TEXT NOT NULL
);
CREATE TABLE lockouts (
  pool_id TEXT NOT NULL,
  sub TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (pool_id, sub)
);
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  pool_id TEXT NOT NULL,
  sub TEXT NOT NULL,
  family TEXT NOT NULL,
  expires_ms BIGINT NOT NULL,
  rotated_ms BIGINT,
  revoked BIGINT NOT NULL DEFAULT 0,
  data TEXT NOT NULL
);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (pool_id, sub);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);
CREATE TABLE revoked_families (
  family TEXT PRIMARY KEY,
  pool_id TEXT NOT NULL,
  until_ms BIGINT NOT NULL
);
CREATE TABLE signing_keys (
  pool_id TEXT NOT NULL,
  kid TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (pool_id, kid)
);
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  pool_id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX outbox_by_recipient ON outbox (recipient, created_ms);
CREATE INDEX outbox_by_time ON outbox (created_ms);
