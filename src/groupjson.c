/*
 * groupjson: groups, backends, rules and flows as the REST API reads and
 * writes them (see groupjson.h).  Each resource has one field table: the
 * fields a request may carry, with their JSON type, whether POST and PUT
 * require them, whether null is a value, and how each is stored; jsonfield
 * walks it and stores the plain numbers, flags and ids, so only the
 * values with rules of their own have code here.  Nothing here does I/O
 * or logs; inet_pton and inet_ntop only convert.
 */
#include "groupjson.h"
#include "jsonfield.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Copies a non-empty string of at most size - 1 bytes whose every byte
 * passes ok, refusing one that would not fit rather than cutting it.
 */
static bool groupjson_copy_text(void *obj, const struct jsonfield *f, json_t *v,
				int (*ok)(int c), const char *what,
				struct mapping_error *err)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (len == 0 || len >= f->size)
		return mapping_fail(err, 422, "invalid_value", f->name,
				    "%s must be 1 to %zu bytes long", f->name,
				    f->size - 1);
	for (size_t i = 0; i < len; i++) {
		if (!ok((unsigned char)s[i]))
			return mapping_fail(err, 422, "invalid_value", f->name,
					    "%s may only hold %s", f->name, what);
	}
	memcpy(jsonfield_member(obj, f), s, len + 1);
	return true;
}

/* Names appear in URLs, query strings and logs: keep them plain. */
static int groupjson_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* Printable ASCII other than the space. */
static int groupjson_aid_char(int c)
{
	return c > 0x20 && c < 0x7f;
}

static bool groupjson_apply_name(void *obj, const struct jsonfield *f, json_t *v,
				 struct mapping_error *err)
{
	return groupjson_copy_text(obj, f, v, groupjson_name_char,
				   "letters, digits, '-', '_' and '.'", err);
}

static bool groupjson_apply_aid(void *obj, const struct jsonfield *f, json_t *v,
				struct mapping_error *err)
{
	return groupjson_copy_text(obj, f, v, groupjson_aid_char,
				   "printable ASCII characters other than space",
				   err);
}

/* A group's address: null for any local address, or a literal. */
static bool groupjson_apply_address(void *obj, const struct jsonfield *f,
				    json_t *v, struct mapping_error *err)
{
	struct groups_group *g = obj;

	(void)f;
	if (!jsonfield_addr_or_any(v, &g->family, g->addr))
		return mapping_fail(err, 422, "invalid_address", "address",
				    "address must be an IPv4 or IPv6 address, "
				    "or null for any local address");
	return true;
}

static bool groupjson_apply_proto(void *obj, const struct jsonfield *f, json_t *v,
				  struct mapping_error *err)
{
	struct groups_group *g = obj;

	if (mapping_proto_parse(json_string_value(v), &g->protos))
		return true;
	return mapping_fail(err, 422, "invalid_proto", f->name,
			    "proto must be \"tcp\", \"udp\" or \"both\"");
}

static bool groupjson_apply_policy(void *obj, const struct jsonfield *f, json_t *v,
				   struct mapping_error *err)
{
	struct groups_group *g = obj;

	if (sched_policy_parse(json_string_value(v), &g->policy))
		return true;
	return mapping_fail(err, 422, "invalid_policy", f->name,
			    "policy must be \"round_robin\", \"least_flows\" "
			    "or \"source_hash\"");
}

static bool groupjson_apply_on_timeout(void *obj, const struct jsonfield *f,
				       json_t *v, struct mapping_error *err)
{
	struct groups_group *g = obj;

	if (groups_on_timeout_parse(json_string_value(v), &g->on_timeout))
		return true;
	return mapping_fail(err, 422, "invalid_on_timeout", f->name,
			    "on_timeout must be \"reset\" or \"drop\"");
}

static bool groupjson_apply_state(void *obj, const struct jsonfield *f, json_t *v,
				  struct mapping_error *err)
{
	struct gctl_backend_view *b = obj;

	if (sched_state_parse(json_string_value(v), &b->b.b.state))
		return true;
	return mapping_fail(err, 422, "invalid_state", f->name,
			    "state must be \"active\", \"drain\" or \"down\"");
}

/*
 * The group a backend or a rule names: copied for the caller to resolve,
 * with the id cleared to say so (groupjson.h).
 */
static bool groupjson_apply_group(void *obj, const struct jsonfield *f, json_t *v,
				  int64_t *group_id, struct mapping_error *err)
{
	if (json_string_length(v) == 0 || json_string_length(v) >= f->size)
		return mapping_fail(err, 422, "invalid_group", f->name,
				    "group must name a group (1 to %zu bytes)",
				    f->size - 1);
	memcpy(jsonfield_member(obj, f), json_string_value(v),
	       json_string_length(v) + 1);
	*group_id = 0;
	return true;
}

static bool groupjson_apply_backend_group(void *obj, const struct jsonfield *f,
					  json_t *v, struct mapping_error *err)
{
	struct gctl_backend_view *b = obj;

	return groupjson_apply_group(obj, f, v, &b->b.group_id, err);
}

static bool groupjson_apply_rule_group(void *obj, const struct jsonfield *f,
				       json_t *v, struct mapping_error *err)
{
	struct gctl_rule_view *r = obj;

	return groupjson_apply_group(obj, f, v, &r->r.group_id, err);
}

static bool groupjson_apply_cidr(void *obj, const struct jsonfield *f, json_t *v,
				 struct mapping_error *err)
{
	struct gctl_rule_view *r = obj;

	return groupjson_cidr_parse(json_string_value(v), f->name, &r->r.family,
				    r->r.addr, &r->r.prefix_len, err);
}

static bool groupjson_apply_ports(void *obj, const struct jsonfield *f, json_t *v,
				  struct mapping_error *err)
{
	struct gctl_rule_view *r = obj;

	if (json_is_null(v)) {
		r->r.has_ports = false;
		r->r.port_lo = r->r.port_hi = 0;
		return true;
	}
	if (!groupjson_ports_parse(json_string_value(v), f->name, &r->r.port_lo,
				   &r->r.port_hi, err))
		return false;
	r->r.has_ports = true;
	return true;
}

/* Ports have their own code, as mapjson gives them. */
static const struct jsonfield groupjson_group_fields[] = {
	JSONFIELD_MEMBER("id", JSONFIELD_INTEGER, false, jsonfield_apply_id,
			 struct groups_group, id, 0, 0, NULL),
	JSONFIELD_MEMBER("name", JSONFIELD_STRING, true, groupjson_apply_name,
			 struct groups_group, name, 0, 0, NULL),
	JSONFIELD_MEMBER("aid", JSONFIELD_STRING, false, groupjson_apply_aid,
			 struct groups_group, aid, 0, 0, NULL),
	JSONFIELD_CUSTOM("address", JSONFIELD_STRING, false, true,
			 groupjson_apply_address),
	JSONFIELD_MEMBER("virtual_port", JSONFIELD_INTEGER, true,
			 jsonfield_apply_uint, struct groups_group,
			 virtual_port, 1, 65535, "invalid_port"),
	JSONFIELD_CUSTOM("proto", JSONFIELD_STRING, false, false,
			 groupjson_apply_proto),
	JSONFIELD_CUSTOM("policy", JSONFIELD_STRING, false, false,
			 groupjson_apply_policy),
	JSONFIELD_MEMBER("max_wait_ms", JSONFIELD_INTEGER, false,
			 jsonfield_apply_uint, struct groups_group,
			 max_wait_ms, 0, GROUPJSON_MAX_WAIT_MS, NULL),
	JSONFIELD_CUSTOM("on_timeout", JSONFIELD_STRING, false, false,
			 groupjson_apply_on_timeout),
	JSONFIELD_MEMBER("default", JSONFIELD_BOOLEAN, false,
			 jsonfield_apply_bool, struct groups_group,
			 is_default, 0, 0, NULL),
};

static const struct jsonfield groupjson_backend_fields[] = {
	JSONFIELD_MEMBER("id", JSONFIELD_INTEGER, false, jsonfield_apply_id,
			 struct gctl_backend_view, b.b.id, 0, 0, NULL),
	JSONFIELD_MEMBER("group", JSONFIELD_STRING, true,
			 groupjson_apply_backend_group,
			 struct gctl_backend_view, group, 0, 0, NULL),
	JSONFIELD_MEMBER("port", JSONFIELD_INTEGER, true, jsonfield_apply_uint,
			 struct gctl_backend_view, b.b.port, 1, 65535,
			 "invalid_port"),
	JSONFIELD_MEMBER("weight", JSONFIELD_INTEGER, false,
			 jsonfield_apply_uint, struct gctl_backend_view,
			 b.b.weight, SCHED_WEIGHT_MIN, SCHED_WEIGHT_MAX, NULL),
	JSONFIELD_MEMBER("max_flows", JSONFIELD_INTEGER, false,
			 jsonfield_apply_uint, struct gctl_backend_view,
			 b.b.max_flows, 0, GROUPJSON_MAX_FLOWS, NULL),
	JSONFIELD_CUSTOM("state", JSONFIELD_STRING, false, false,
			 groupjson_apply_state),
};

static const struct jsonfield groupjson_rule_fields[] = {
	JSONFIELD_MEMBER("id", JSONFIELD_INTEGER, false, jsonfield_apply_id,
			 struct gctl_rule_view, r.id, 0, 0, NULL),
	JSONFIELD_CUSTOM("cidr", JSONFIELD_STRING, true, false,
			 groupjson_apply_cidr),
	JSONFIELD_CUSTOM("source_ports", JSONFIELD_STRING, false, true,
			 groupjson_apply_ports),
	JSONFIELD_MEMBER("group", JSONFIELD_STRING, true,
			 groupjson_apply_rule_group, struct gctl_rule_view,
			 group, 0, 0, NULL),
};

void groupjson_group_defaults(struct groups_group *g)
{
	memset(g, 0, sizeof(*g));
	g->protos = MAPPING_TCP;
	g->policy = SCHED_ROUND_ROBIN;
	g->on_timeout = GROUPS_RESET;
}

bool groupjson_group_apply(json_t *obj, struct groups_group *g, bool partial,
			   struct mapping_error *err)
{
	if (!jsonfield_apply(obj, groupjson_group_fields,
			     ARRAY_LEN(groupjson_group_fields), g, partial, err))
		return false;
	if (!partial && json_object_get(obj, "aid") == NULL)
		memcpy(g->aid, g->name, sizeof(g->aid));
	return true;
}

void groupjson_backend_defaults(struct gctl_backend_view *v)
{
	memset(v, 0, sizeof(*v));
	v->b.b.weight = 1;
	v->b.b.state = SCHED_ACTIVE;
}

bool groupjson_backend_apply(json_t *obj, struct gctl_backend_view *v,
			     bool partial, struct mapping_error *err)
{
	return jsonfield_apply(obj, groupjson_backend_fields,
			       ARRAY_LEN(groupjson_backend_fields), v, partial,
			       err);
}

void groupjson_rule_defaults(struct gctl_rule_view *v)
{
	memset(v, 0, sizeof(*v));
}

bool groupjson_rule_apply(json_t *obj, struct gctl_rule_view *v, bool partial,
			  struct mapping_error *err)
{
	return jsonfield_apply(obj, groupjson_rule_fields,
			       ARRAY_LEN(groupjson_rule_fields), v, partial, err);
}

/* ---- CIDR and port ranges --------------------------------------------- */

/*
 * Strict decimal of 1 to 5 digits without a leading zero (but "0"), at
 * most max.  The CIDR prefix and the ports share it, so "010" means the
 * same nowhere.
 */
static bool groupjson_parse_dec(const char *s, size_t len, unsigned max,
				unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

bool groupjson_cidr_parse(const char *s, const char *field, uint8_t *family,
			  uint8_t addr[16], uint8_t *prefix_len,
			  struct mapping_error *err)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	uint8_t fam, bin[16];
	unsigned max, len;

	if (alen >= sizeof(buf))
		goto bad;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (!mapping_addr_parse(buf, &fam, bin))
		goto bad;
	max = fam == AF_INET ? 32 : 128;
	len = max;
	if (slash != NULL && !groupjson_parse_dec(slash + 1, strlen(slash + 1),
						  max, &len))
		return mapping_fail(err, 422, "invalid_cidr", field,
				    "%s: the prefix length after '/' must be "
				    "0..%u", field, max);
	/* Host bits cleared: 10.1.2.3/16 is the network 10.1.0.0/16. */
	util_prefix_mask(bin, bin, len);
	*family = fam;
	memcpy(addr, bin, sizeof(bin));
	*prefix_len = (uint8_t)len;
	return true;
bad:
	return mapping_fail(err, 422, "invalid_cidr", field,
			    "%s must be an IPv4 or IPv6 address, optionally "
			    "with a /prefix, such as 10.1.0.0/16", field);
}

const char *groupjson_cidr_format(uint8_t family, const uint8_t addr[16],
				  uint8_t prefix_len,
				  char buf[GROUPJSON_CIDR_LEN])
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(family == AF_INET ? AF_INET : AF_INET6, addr, a,
		      sizeof(a)) == NULL)
		a[0] = '\0';
	snprintf(buf, GROUPJSON_CIDR_LEN, "%s/%u", a, (unsigned)prefix_len);
	return buf;
}

bool groupjson_ports_parse(const char *s, const char *field, uint16_t *lo,
			   uint16_t *hi, struct mapping_error *err)
{
	const char *dash = strchr(s, '-');
	size_t llen = dash != NULL ? (size_t)(dash - s) : strlen(s);
	unsigned a, b;

	if (!groupjson_parse_dec(s, llen, 65535, &a) || a == 0)
		goto bad;
	b = a;
	if (dash != NULL &&
	    (!groupjson_parse_dec(dash + 1, strlen(dash + 1), 65535, &b) ||
	     b == 0))
		goto bad;
	if (a > b)
		return mapping_fail(err, 422, "invalid_ports", field,
				    "%s: %u-%u runs backwards", field, a, b);
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
bad:
	return mapping_fail(err, 422, "invalid_ports", field,
			    "%s must be a port or a range \"lo-hi\" of ports "
			    "in 1..65535, or null", field);
}

const char *groupjson_ports_format(uint16_t lo, uint16_t hi,
				   char buf[GROUPJSON_PORTS_LEN])
{
	if (lo == hi)
		snprintf(buf, GROUPJSON_PORTS_LEN, "%u", (unsigned)lo);
	else
		snprintf(buf, GROUPJSON_PORTS_LEN, "%u-%u", (unsigned)lo,
			 (unsigned)hi);
	return buf;
}

/* ---- encoding --------------------------------------------------------- */

json_t *groupjson_backend_encode(const struct gctl_backend_view *v)
{
	return json_pack("{s:I, s:s, s:I, s:i, s:i, s:I, s:s, s:I, s:I}",
			 "id", (json_int_t)v->b.b.id,
			 "group", v->group,
			 "group_id", (json_int_t)v->b.group_id,
			 "port", (int)v->b.b.port,
			 "weight", (int)v->b.b.weight,
			 "max_flows", (json_int_t)v->b.b.max_flows,
			 "state", sched_state_name(v->b.b.state),
			 "active_flows", (json_int_t)v->active,
			 "flows", (json_int_t)v->flows);
}

json_t *groupjson_group_encode(const struct gctl_group_view *v,
			       const struct gctl_backend_view *b, size_t nb)
{
	const struct groups_group *g = &v->g;
	json_t *list = json_array();
	char addr[INET6_ADDRSTRLEN];

	for (size_t i = 0; list != NULL && i < nb; i++) {
		if (b[i].b.group_id != g->id)
			continue;
		if (json_array_append_new(list, groupjson_backend_encode(&b[i])) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return json_pack("{s:I, s:s, s:s, s:s?, s:i, s:s, s:s, s:I, s:s, s:b,"
			 " s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			 "id", (json_int_t)g->id,
			 "name", g->name,
			 "aid", g->aid,
			 "address", mapping_addr_text(g->family, g->addr, addr),
			 "virtual_port", (int)g->virtual_port,
			 "proto", mapping_proto_name(g->protos),
			 "policy", sched_policy_name(g->policy),
			 "max_wait_ms", (json_int_t)g->max_wait_ms,
			 "on_timeout", groups_on_timeout_name(g->on_timeout),
			 "default", (int)g->is_default,
			 "active_flows", (json_int_t)v->active,
			 "flows", (json_int_t)v->c.flows,
			 "waits", (json_int_t)v->c.waits,
			 "wait_admitted", (json_int_t)v->c.wait_admitted,
			 "timeouts", (json_int_t)v->c.timeouts,
			 "refused", (json_int_t)v->c.refused,
			 "backends", list);
}

json_t *groupjson_rule_encode(const struct gctl_rule_view *v)
{
	char cidr[GROUPJSON_CIDR_LEN], ports[GROUPJSON_PORTS_LEN];

	return json_pack("{s:I, s:s, s:s?, s:s, s:I}",
			 "id", (json_int_t)v->r.id,
			 "cidr", groupjson_cidr_format(v->r.family, v->r.addr,
						       v->r.prefix_len, cidr),
			 "source_ports", v->r.has_ports
				 ? groupjson_ports_format(v->r.port_lo,
							  v->r.port_hi, ports)
				 : NULL,
			 "group", v->group,
			 "group_id", (json_int_t)v->r.group_id);
}

json_t *groupjson_flow_encode(const struct gflows_view *f, uint32_t now)
{
	const struct flow_entry *e = &f->e;
	char client[INET6_ADDRSTRLEN], service[INET6_ADDRSTRLEN];

	return json_pack("{s:s, s:s?, s:i, s:s?, s:i, s:i, s:s?, s:I, s:I, s:s,"
			 " s:I, s:I}",
			 "proto", e->key.l4proto == IPPROTO_TCP ? "tcp" :
				  e->key.l4proto == IPPROTO_UDP ? "udp" : "unknown",
			 "client", mapping_addr_text(e->key.family,
							 e->key.client, client),
			 "client_port", (int)e->key.client_port,
			 "address", mapping_addr_text(e->key.family,
							  e->key.service, service),
			 "virtual_port", (int)e->key.port,
			 "backend_port", (int)e->backend_port,
			 "group", f->group[0] != '\0' ? f->group : NULL,
			 "group_id", (json_int_t)e->group,
			 "backend_id", (json_int_t)e->backend,
			 "state", flow_state_name(e->state),
			 /* Unsigned subtraction: right across the 2^32 wrap. */
			 "created_s_ago", (json_int_t)(uint32_t)(now - e->created),
			 "idle_s", (json_int_t)(uint32_t)(now - e->last_seen));
}
