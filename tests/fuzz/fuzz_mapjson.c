/*
 * libFuzzer harness for mapjson.c, compiled directly against the real files:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *         -o build/fuzz_mapjson tests/fuzz/fuzz_mapjson.c src/mapjson.c \
 *         src/jsonfield.c src/mapping.c -ljansson
 *
 * The input is parsed as a request body with the flags the API uses, then
 * applied as a POST, a PUT and a PATCH body.  Besides the sanitizers'
 * findings, the harness aborts when a documented property does not hold: an
 * error is a 400 or 422 with a code, a field and a message; an accepted body
 * leaves the row's id alone and its ports, proto and strings in range; and a
 * row accepted by POST, encoded and applied again as a PUT, is unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mapjson.h"

/* The URL's id of every PUT and PATCH. */
#define URL_ID 7

enum mode { POST, PUT, PATCH };

static void require(int cond)
{
	if (!cond)
		abort();
}

/* The row PATCH starts from, as if it had been read from the store. */
static void stored(struct mapping *m)
{
	mapjson_defaults(m);
	m->id = URL_ID;
	m->proto = MAPPING_TCP;
	strcpy(m->address, "192.0.2.1");
	m->shared_port = 80;
	m->assigned_port = 8080;
	strcpy(m->comment, "web");
}

static void check_error(const struct mapping_error *err)
{
	require(err->status == 400 || err->status == 422);
	require(err->code != NULL && err->code[0] != '\0');
	require(err->field != NULL);
	require(memchr(err->message, '\0', sizeof(err->message)) != NULL);
	require(err->message[0] != '\0');
}

static void check_row(const struct mapping *m, int64_t id)
{
	require(m->id == id);
	require(m->proto >= MAPPING_TCP && m->proto <= MAPPING_BOTH);
	require(m->shared_port >= 1 && m->shared_port <= 65535);
	require(m->assigned_port >= 1 && m->assigned_port <= 65535);
	require(memchr(m->address, '\0', sizeof(m->address)) != NULL);
	require(memchr(m->comment, '\0', sizeof(m->comment)) != NULL);
}

/* Encodes m as GET would show it and applies that, minus live state, as a PUT. */
static void check_round_trip(const struct mapping *m)
{
	static const char *const live[] = {
		"resolved", "addresses", "resolve_error", "counters",
	};
	struct control_mapping cm;
	struct mapping_error err;
	struct mapping again;
	json_t *o;

	memset(&cm, 0, sizeof(cm));
	cm.m = *m;
	cm.m.id = URL_ID;
	o = mapjson_encode(&cm);
	require(o != NULL);
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		require(json_object_del(o, live[i]) == 0);
	mapjson_defaults(&again);
	again.id = URL_ID;
	require(mapjson_apply(o, &again, false, &err));
	require(again.proto == m->proto);
	require(strcmp(again.address, m->address) == 0);
	require(again.shared_port == m->shared_port);
	require(again.assigned_port == m->assigned_port);
	require(again.enabled == m->enabled);
	require(strcmp(again.comment, m->comment) == 0);
	json_decref(o);
}

static void fuzz_mode(json_t *root, enum mode mode)
{
	struct mapping_error err;
	struct mapping m;
	int64_t id = mode == POST ? 0 : URL_ID;

	if (mode == PATCH) {
		stored(&m);
	} else {
		mapjson_defaults(&m);
		m.id = id;
	}
	if (!mapjson_apply(root, &m, mode == PATCH, &err)) {
		check_error(&err);
		return;
	}
	check_row(&m, id);
	if (mode == POST)
		check_round_trip(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, MAPJSON_LOAD_FLAGS,
				  &jerr);

	if (root == NULL)
		return 0;
	fuzz_mode(root, POST);
	fuzz_mode(root, PUT);
	fuzz_mode(root, PATCH);
	json_decref(root);
	return 0;
}
