/* cli_spec.h: the speculative-decoding options of `gemmash generate`
 * (--spec, --draft, --draft-k) and the --stats report of acceptance. */
#ifndef GEMMASH_CLI_SPEC_H
#define GEMMASH_CLI_SPEC_H
#include "engine.h"

/* Parse a --spec value (auto|mtp|lookup|off); -1 if unknown. */
int         cli_spec_mode(const char *s);
/* Load the drafter for mode: the --draft folder, else the one next to the
 * model.  *out stays NULL when none is wanted or found (auto: note on
 * stderr if one was found but failed).  Returns 0, or -1 with a message. */
int         cli_spec_drafter(const char *cmd, gm_spec_mode mode, const char *draft, const char *model_path,
                             gm_model *m, gm_drafter **out);
/* Print acceptance per draft position, tokens per target pass and speeds. */
void        cli_spec_report(const gm_spec_stats *st, const gm_gen_result *res, double plain_tok_s);
#endif
