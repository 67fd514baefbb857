/*
 * sched: see sched.h.  Each policy is a function in sched_policies; the
 * table also names them for the API.  All three skip backends that are not
 * eligible, so drain, down and full backends never take a new flow.
 */
#include "sched.h"

#include <string.h>

#include "util.h"

typedef int sched_fn(const struct sched_backend *b, size_t n, int32_t *rr,
		     const uint8_t client[16]);

/*
 * Smooth weighted round robin as nginx does it: every eligible backend
 * gains its weight, the one with the most current weight wins and gives
 * back the total.  From a zeroed state, every total picks choose each
 * backend exactly weight times, spread out rather than in runs, and the
 * order depends on nothing but the state, so tests can count.
 */
static int sched_round_robin(const struct sched_backend *b, size_t n,
			     int32_t *rr, const uint8_t client[16])
{
	int best = SCHED_NONE;
	int32_t total = 0;

	(void)client;
	for (size_t i = 0; i < n; i++) {
		if (!sched_eligible(&b[i]))
			continue;
		rr[i] += b[i].weight;
		total += b[i].weight;
		if (best == SCHED_NONE || rr[i] > rr[best])
			best = (int)i;
	}
	if (best != SCHED_NONE)
		rr[best] -= total;
	return best;
}

/*
 * Fewest active flows relative to weight: a/wa < c/wc, compared as
 * a * wc < c * wa so that no division rounds two loads together.
 */
static int sched_least_flows(const struct sched_backend *b, size_t n,
			     int32_t *rr, const uint8_t client[16])
{
	int best = SCHED_NONE;
	uint64_t best_active = 0;

	(void)rr;
	(void)client;
	for (size_t i = 0; i < n; i++) {
		uint64_t active;

		if (!sched_eligible(&b[i]))
			continue;
		active = __atomic_load_n(b[i].active, __ATOMIC_RELAXED);
		if (best == SCHED_NONE ||
		    active * b[best].weight < best_active * b[i].weight) {
			best = (int)i;
			best_active = active;
		}
	}
	return best;
}

/* The splitmix64 finaliser: every input bit moves about half the output. */
static uint64_t sched_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t sched_hash_client(const uint8_t client[16])
{
	uint64_t hi, lo;

	memcpy(&hi, client, 8);
	memcpy(&lo, client + 8, 8);
	return sched_mix(sched_mix(hi) ^ lo);
}

/*
 * -ln(u) for u = x / 2^53, 0 < x < 2^53, so 0 < u < 1.  Written out rather
 * than taken from libm because the daemon does not link libm and because
 * every build must rank backends the same way: this uses only IEEE double
 * arithmetic.  x = m * 2^k with m brought into [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, whose odd series to
 * s^21 is exact to double precision.  The result stays accurate (and
 * positive) for u next to 1, where the weighted score is largest.
 */
static double sched_neg_log_unit(uint64_t x)
{
	static const double ln2 = 0.69314718055994530942;
	int k = 63 - __builtin_clzll(x);
	double m = (double)x / (double)(1ULL << k);
	double s, s2, term, sum = 0;

	if (m > 1.41421356237309504880) {
		m /= 2;
		k++;
	}
	s = (m - 1) / (m + 1);
	s2 = s * s;
	term = s;
	for (int i = 1; i <= 21; i += 2) {
		sum += term / i;
		term *= s2;
	}
	return (53 - k) * ln2 - 2 * sum;
}

/*
 * Weighted rendezvous (highest random weight) hashing: each backend scores
 * weight / -ln(u), u uniform in (0, 1) from a hash of (client, backend id),
 * and the best eligible score wins.  A client's ranking of the backends
 * depends only on its address and their ids and weights, so adding or
 * removing a backend (or draining it) moves only the clients whose best
 * choice it is, and each backend wins a share proportional to its weight.
 */
static int sched_source_hash(const struct sched_backend *b, size_t n,
			     int32_t *rr, const uint8_t client[16])
{
	uint64_t hc = sched_hash_client(client);
	int best = SCHED_NONE;
	double best_score = 0;

	(void)rr;
	for (size_t i = 0; i < n; i++) {
		uint64_t h;
		double score;

		if (!sched_eligible(&b[i]))
			continue;
		h = sched_mix(hc ^ sched_mix((uint64_t)b[i].id));
		score = b[i].weight / sched_neg_log_unit((h >> 11) | 1);
		if (best == SCHED_NONE || score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

/* Indexed by enum sched_policy. */
static const struct {
	const char *name;
	sched_fn *pick;
} sched_policies[] = {
	[SCHED_ROUND_ROBIN] = { "round_robin", sched_round_robin },
	[SCHED_LEAST_FLOWS] = { "least_flows", sched_least_flows },
	[SCHED_SOURCE_HASH] = { "source_hash", sched_source_hash },
};

/* Indexed by enum sched_state. */
static const char *const sched_states[] = {
	[SCHED_ACTIVE] = "active",
	[SCHED_DRAIN] = "drain",
	[SCHED_DOWN] = "down",
};

_Static_assert(ARRAY_LEN(sched_policies) == SCHED_POLICY_COUNT,
	       "one table row per policy");
_Static_assert(ARRAY_LEN(sched_states) == SCHED_STATE_COUNT,
	       "one name per backend state");

bool sched_policy_parse(const char *s, enum sched_policy *policy)
{
	for (size_t i = 0; i < ARRAY_LEN(sched_policies); i++) {
		if (strcmp(s, sched_policies[i].name) == 0) {
			*policy = (enum sched_policy)i;
			return true;
		}
	}
	return false;
}

const char *sched_policy_name(enum sched_policy policy)
{
	if ((unsigned)policy >= ARRAY_LEN(sched_policies))
		return "unknown";
	return sched_policies[policy].name;
}

bool sched_state_parse(const char *s, enum sched_state *state)
{
	int i = util_name_find(sched_states, ARRAY_LEN(sched_states), s);

	if (i < 0)
		return false;
	*state = (enum sched_state)i;
	return true;
}

const char *sched_state_name(enum sched_state state)
{
	return util_name_at(sched_states, ARRAY_LEN(sched_states), (unsigned)state);
}

bool sched_eligible(const struct sched_backend *b)
{
	if (b->state != SCHED_ACTIVE)
		return false;
	return b->max_flows == 0 ||
	       __atomic_load_n(b->active, __ATOMIC_RELAXED) < b->max_flows;
}

int sched_pick(enum sched_policy policy, const struct sched_backend *b,
	       size_t n, int32_t *rr, const uint8_t client[16])
{
	if ((unsigned)policy >= ARRAY_LEN(sched_policies))
		return SCHED_NONE;
	return sched_policies[policy].pick(b, n, rr, client);
}

/*
 * Relaxed order is enough: the counter guards nothing but itself, and the
 * compare-and-swap alone makes "below max, then one more" a single step.
 */
bool sched_claim(uint32_t *counter, uint32_t max)
{
	uint32_t cur;

	if (max == 0) {
		__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
		return true;
	}
	cur = __atomic_load_n(counter, __ATOMIC_RELAXED);
	do {
		if (cur >= max)
			return false;
	} while (!__atomic_compare_exchange_n(counter, &cur, cur + 1, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

void sched_release(uint32_t *counter)
{
	__atomic_fetch_sub(counter, 1, __ATOMIC_RELAXED);
}

int sched_admit(enum sched_policy policy, const struct sched_backend *b,
		size_t n, int32_t *rr, const uint8_t client[16])
{
	for (size_t round = 0; round <= n; round++) {
		int i = sched_pick(policy, b, n, rr, client);

		if (i == SCHED_NONE || sched_claim(b[i].active, b[i].max_flows))
			return i;
	}
	return SCHED_NONE;
}
