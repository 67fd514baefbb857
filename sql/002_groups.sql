-- Migration 002: application groups (virtual port multiplexing, issue 4).
--
-- A group is a virtual service (address or any local address, virtual port,
-- protocols) served by its backends, the local ports new flows are spread
-- over; source rules send some clients to one group of a service.  The
-- daemon checks the whole configuration before every write (src/gctl.c,
-- src/groups.c); the CHECK constraints repeat the simple rules so that a row
-- edited by hand in the sqlite3 shell is refused here instead of keeping the
-- daemon from starting.
--
-- Every id is AUTOINCREMENT: the flow table names backends and groups by
-- id, and a flow pinned to a deleted backend must never be counted against
-- a new backend that got the same id.  store_open turns foreign keys on, so
-- deleting a group deletes its backends and rules.
CREATE TABLE groups (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	name         TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
	aid          TEXT    NOT NULL CHECK (length(aid) BETWEEN 1 AND 63),
	-- NULL: every local address.  Otherwise an inet_ntop literal, so that
	-- a reload gives the very bytes that were stored.
	address      TEXT    CHECK (address IS NULL OR length(address) BETWEEN 2 AND 45),
	virtual_port INTEGER NOT NULL CHECK (virtual_port BETWEEN 1 AND 65535),
	proto        TEXT    NOT NULL CHECK (proto IN ('tcp', 'udp', 'both')),
	policy       TEXT    NOT NULL
		CHECK (policy IN ('round_robin', 'least_flows', 'source_hash')),
	max_wait_ms  INTEGER NOT NULL DEFAULT 0
		CHECK (max_wait_ms BETWEEN 0 AND 4294967295),
	on_timeout   TEXT    NOT NULL DEFAULT 'reset' CHECK (on_timeout IN ('reset', 'drop')),
	is_default   INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1))
) STRICT;

CREATE TABLE backends (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	group_id  INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	port      INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
	weight    INTEGER NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000),
	max_flows INTEGER NOT NULL DEFAULT 0 CHECK (max_flows BETWEEN 0 AND 4294967295),
	state     TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'drain', 'down')),
	-- Also the index the cascade looks backends up by.
	UNIQUE (group_id, port)
) STRICT;

CREATE TABLE rules (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	-- "address/prefix_len" with an inet_ntop address.
	cidr     TEXT    NOT NULL CHECK (length(cidr) BETWEEN 4 AND 49 AND instr(cidr, '/') > 1),
	-- The client's source port range, or both NULL for any port.
	port_lo  INTEGER CHECK (port_lo BETWEEN 1 AND 65535),
	port_hi  INTEGER CHECK (port_hi BETWEEN 1 AND 65535),
	CHECK ((port_lo IS NULL) = (port_hi IS NULL)),
	CHECK (port_lo <= port_hi)
) STRICT;

CREATE INDEX rules_group ON rules (group_id);
