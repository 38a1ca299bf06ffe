-- Staff teams. Membership is not here: a staff member's or a customer's team is the `team` of its mirror row
-- (and `custom:team` at the identity provider), so a team is a name people can be assigned to.
CREATE TABLE teams (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  -- Milliseconds since the epoch.
  created_at BIGINT NOT NULL
);
