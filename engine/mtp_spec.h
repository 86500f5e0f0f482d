/* mtp_spec.h: the speculative loop's planning helpers (internal to engine/;
 * shared with the tests and bench/mtp).
 *
 * Model sizes, the published per-position acceptance rates used as priors,
 * the choice of K from acceptance and cost, and prompt lookup. */
#ifndef GEMMASH_MTP_SPEC_H
#define GEMMASH_MTP_SPEC_H

#include "model.h"

typedef enum { GM_SIZE_E2B = 0, GM_SIZE_E4B, GM_SIZE_26B, GM_SIZE_31B, GM_SIZE_COUNT } gm_spec_size;

/* Extra cost of one more verified token, in target decode steps (measured by
 * bench/mtp.sh on the CPU bench model: a verify pass over K+1 tokens costs
 * about 1 + 0.1 K decode steps). */
#define GM_SPEC_VERIFY_COST 0.1

gm_spec_size gm_spec_size_of(const gm_config *c);
const char  *gm_spec_size_name(gm_spec_size s);
int          gm_spec_default_k(gm_spec_size s);
/* Per-position acceptance a[0..n) (probability that draft j is kept). */
void         gm_spec_prior(gm_spec_size s, double *a, int n);
/* The K in [1, kmax] (or 0 when allowed and nothing pays) maximizing
 * (1 + a[0] + ... + a[K-1]) / (1 + cost_per_draft * K). */
int          gm_spec_best_k(const double *a, int kmax, double cost_per_draft, bool allow_zero);
/* Prompt lookup: find the latest earlier occurrence of the longest suffix
 * n-gram (2..8 tokens) of h[0..n) and copy up to k tokens that followed it
 * to out.  Returns the count (0: no match). */
int          gm_spec_lookup(const int32_t *h, int n, int k, int32_t *out);

#endif
