/* cli_spec.c: speculative-decoding options shared by the commands that
 * generate: choosing the mode, finding and loading the drafter, and the
 * --stats report (acceptance per draft position, tokens per target pass,
 * tokens/s with and without speculation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_spec.h"

int cli_spec_mode(const char *s)
{
    static const char *const names[] = {"auto", "off", "mtp", "lookup"};
    static const int modes[] = {GM_SPEC_AUTO, GM_SPEC_OFF, GM_SPEC_MTP, GM_SPEC_LOOKUP};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i])) return modes[i];
    return -1;
}

int cli_spec_drafter(const char *cmd, gm_spec_mode mode, const char *draft, const char *model_path,
                     gm_model *m, gm_drafter **out)
{
    *out = NULL;
    if (mode == GM_SPEC_OFF || mode == GM_SPEC_LOOKUP) return 0;
    char *path = draft ? strdup(draft) : gm_drafter_find(model_path);
    if (!path) {
        if (draft) { fprintf(stderr, "gemmash %s: out of memory\n", cmd); return -1; }
        if (mode == GM_SPEC_MTP) {
            fprintf(stderr, "gemmash %s: --spec mtp: no drafter next to %s (looked for %s-assistant, "
                    "%s_assistant and %s/assistant); give one with --draft DIR\n", cmd, model_path, model_path,
                    model_path, model_path);
            return -1;
        }
        return 0;
    }
    gm_err err = {0};
    *out = gm_drafter_load(path, m, &err);
    if (!*out) {
        fprintf(stderr, "gemmash %s: %s\n", cmd, err.msg);
        if (draft || mode == GM_SPEC_MTP) { free(path); return -1; }
        fprintf(stderr, "gemmash %s: going on without the drafter (prompt lookup only)\n", cmd);
    }
    free(path);
    return 0;
}

void cli_spec_report(const gm_spec_stats *st, const gm_gen_result *res, double plain_tok_s)
{
    double tok_s = res->decode_s > 0 ? res->n_generated / res->decode_s : 0;
    fprintf(stderr, "speculation: %d rounds with drafts (mtp %d, lookup %d, hook %d), %d target passes, "
            "%.2f tokens per pass\n", st->rounds, st->mtp_rounds, st->lookup_rounds, st->hook_rounds,
            st->target_passes, st->target_passes ? (double)res->n_generated / st->target_passes : 0.0);
    fprintf(stderr, "acceptance per draft position:");
    for (int j = 0; j < GM_SPEC_KMAX && st->drafted[j]; j++)
        fprintf(stderr, " %d:%.2f(%ld/%ld)", j + 1, (double)st->accepted[j] / st->drafted[j], st->accepted[j],
                st->drafted[j]);
    fprintf(stderr, "%s\n", st->drafted[0] ? "" : " (nothing drafted)");
    fprintf(stderr, "time: drafting %.3f s, target passes %.3f s\n", st->draft_s, st->verify_s);
    if (plain_tok_s > 0)
        fprintf(stderr, "tokens/s: %.1f with speculation, %.1f without (%.2fx)\n", tok_s, plain_tok_s,
                tok_s / plain_tok_s);
    else fprintf(stderr, "tokens/s: %.1f with speculation\n", tok_s);
}
