-- What the service revokes (sign-out, password change, refused sign-in, admin actions), kept so that every
-- verifier refuses the same tokens after a restart. A row is either one token or login (`token_id`: a jti or
-- an origin_jti) or every token of a subject issued before `issued_before` (Unix seconds). Rows are needed
-- only until the tokens they cover have expired (`expires_ms`).
CREATE TABLE token_revocations (
  id TEXT PRIMARY KEY,
  pool TEXT NOT NULL,
  sub TEXT,
  token_id TEXT,
  issued_before BIGINT,
  expires_ms BIGINT NOT NULL
);
CREATE INDEX token_revocations_by_expiry ON token_revocations (expires_ms);
-- One-time MFA recovery codes, stored as hashes; a used code keeps its row (with when) until the next
-- enrolment replaces the set.
CREATE TABLE recovery_codes (
  pool TEXT NOT NULL,
  sub TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  used_ms BIGINT,
  PRIMARY KEY (pool, sub, code_hash)
);
