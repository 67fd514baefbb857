-- Migration 003: UDP fan-out (issue 5).
--
-- A contested port is a local UDP port (on one address, or on every local
-- address) whose datagrams keep reaching the local listener while copies go
-- to the port's subscribers; subscribers register themselves on the
-- registration port (the registration protocol) or are added through the
-- API.  The daemon checks every change against the whole configuration
-- (src/fctl.c); the CHECK constraints repeat the simple rules so that a row
-- edited by hand in the sqlite3 shell is refused here instead of keeping
-- the daemon from starting.
--
-- Every id is AUTOINCREMENT: the live counters are keyed by id, and a new
-- row must never inherit a deleted row's id.  store_open turns foreign keys
-- on, so deleting a contested port deletes its subscribers.
CREATE TABLE contested (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	port              INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
	-- NULL: every local address.  Otherwise an inet_ntop literal, so that
	-- a reload gives the very bytes that were stored.  UNIQUE treats NULLs
	-- as distinct, so "one row per port" is fctl's to keep, not this
	-- constraint's.
	address           TEXT    CHECK (address IS NULL OR length(address) BETWEEN 2 AND 45),
	registration_port INTEGER NOT NULL CHECK (registration_port BETWEEN 1 AND 65535),
	enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	CHECK (registration_port <> port),
	UNIQUE (port, address)
) STRICT;

-- A registration port names one contested port.
CREATE UNIQUE INDEX contested_registration ON contested (registration_port);

CREATE TABLE subscribers (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	contested_id INTEGER NOT NULL REFERENCES contested (id) ON DELETE CASCADE,
	mode         TEXT    NOT NULL
		CHECK (mode IN ('raw', 'spoof', 'framed_udp', 'framed_tcp', 'framed_unix')),
	-- An inet_ntop literal, or for framed_unix the socket's absolute path
	-- (shorter than sun_path's 108 bytes).
	address      TEXT    NOT NULL CHECK (length(address) BETWEEN 1 AND 107),
	-- 0 for framed_unix, which has no port.
	port         INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
	sample_every INTEGER NOT NULL DEFAULT 1 CHECK (sample_every BETWEEN 1 AND 1000000),
	-- 1: made by the registration protocol; 0: through the API.
	registered   INTEGER NOT NULL DEFAULT 0 CHECK (registered IN (0, 1)),
	CHECK ((mode = 'framed_unix') = (port = 0)),
	CHECK (mode <> 'framed_unix' OR substr(address, 1, 1) = '/'),
	-- One target once per contested port; also the index the cascade
	-- looks subscribers up by.
	UNIQUE (contested_id, address, port)
) STRICT;
