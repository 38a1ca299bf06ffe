-- The service's tables (SQLite): the user mirror, the audit log and the billing webhook's ledger. Records are
-- JSON documents (data) beside the columns queries need; enums are their snake_case names, booleans 0 or 1.
CREATE TABLE mirror_users (
  pool TEXT NOT NULL,
  sub TEXT NOT NULL,
  -- Lowercased; prefix filters are byte ranges over it.
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  team TEXT,
  onboarding TEXT NOT NULL,
  premium BIGINT NOT NULL,
  enabled BIGINT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (pool, sub)
);
CREATE UNIQUE INDEX mirror_users_by_email ON mirror_users (pool, email);
CREATE INDEX mirror_users_by_role ON mirror_users (pool, role, sub);
CREATE INDEX mirror_users_by_team ON mirror_users (pool, team, sub);
CREATE INDEX mirror_users_by_onboarding ON mirror_users (pool, onboarding, sub);
-- Queried newest first, by (at, id).
CREATE TABLE audit_events (
  id TEXT PRIMARY KEY,
  at BIGINT NOT NULL,
  pool TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  actor TEXT,
  target TEXT,
  data TEXT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events (at, id);
CREATE INDEX audit_events_by_actor ON audit_events (actor, at, id);
CREATE INDEX audit_events_by_target ON audit_events (target, at, id);
CREATE INDEX audit_events_by_action ON audit_events (action, at, id);
-- The billing webhook's processed events (at: when first recorded, in ms).
CREATE TABLE webhook_events (
  event_id TEXT PRIMARY KEY,
  at BIGINT NOT NULL
);
