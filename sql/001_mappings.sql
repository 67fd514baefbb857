-- Migration 001: the port-sharing table.
--
-- One row per mapping: packets for (address, shared_port) are rewritten to
-- assigned_port, and replies from assigned_port back to shared_port.  The
-- daemon validates every row before writing it (src/mapping.c); the CHECK
-- constraints repeat the simple rules so that a row edited by hand in the
-- sqlite3 shell is refused here instead of confusing the packet path.
--
-- STRICT makes sqlite refuse a value of the wrong type instead of storing
-- '80' as text in a port column.
CREATE TABLE mappings (
	-- AUTOINCREMENT so a deleted mapping's id is never handed out again: an
	-- API client that still holds it must get 404, not someone else's row.
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	proto         TEXT    NOT NULL CHECK (proto IN ('tcp', 'udp', 'both')),
	-- Canonical form (inet_ntop output or a lower-case name), so that equal
	-- addresses are equal strings and the indexes below can compare them.
	address       TEXT    NOT NULL CHECK (length(address) BETWEEN 1 AND 253),
	shared_port   INTEGER NOT NULL CHECK (shared_port BETWEEN 1 AND 65535),
	assigned_port INTEGER NOT NULL CHECK (assigned_port BETWEEN 1 AND 65535),
	-- A disabled mapping keeps its ports reserved; see mapping_check_conflicts().
	enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	comment       TEXT    NOT NULL DEFAULT '',
	created_at    TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at    TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
	CHECK (shared_port <> assigned_port)
) STRICT;

-- Backstops for the conflict rules in mapping_check_conflicts(), which runs
-- first and also covers what an index cannot express: "both" overlapping
-- "tcp" or "udp", and one row's shared port being another's assigned port.
-- Two rows with the same protocol may neither share the same port nor
-- assign the same port, or a packet would match both of them.
CREATE UNIQUE INDEX mappings_shared ON mappings (proto, address, shared_port);
CREATE UNIQUE INDEX mappings_assigned ON mappings (proto, address, assigned_port);
