/* decode.c: what the model may say next, token by token.
 *
 * Free text and thoughts are never constrained, except where a setting says
 * so: --tool-choice required/NAME makes a turn open with <|tool_call>
 * (after an optional thought), none removes <|tool_call>, the thinking
 * budget closes the thought channel by allowing only <channel|>, and
 * --output-schema holds the answer to its JSON grammar.  Once the model
 * opens <|tool_call>, the tool-call grammar decides until <tool_call|>.
 * After a call only another call or <|tool_response> may follow. */
#include <stdlib.h>
#include <string.h>
#include "agent_int.h"

/* Per-step constraints from the session's settings; first_step forces a call. */
int ag_decoder_init(ag_decoder *d, ag_session *s, bool first_step, ag_out_fn out, void *ud)
{
    memset(d, 0, sizeof *d);
    d->v = s->vocab;
    d->parser = ag_parser_new(out, ud);
    if (!d->parser) return -1;
    if (s->call_g && !(d->call_s = ag_gstate_new(s->call_g))) return -1;
    if (s->json_g && !(d->json_s = ag_gstate_new(s->json_g))) return -1;
    d->no_calls = s->o.tool_choice == AG_TC_NONE || !s->call_g;
    d->force_call = first_step && !d->no_calls &&
                    (s->o.tool_choice == AG_TC_REQUIRED || s->o.tool_choice == AG_TC_NAME);
    d->think = s->o.think;
    d->think_budget = s->o.think_budget;
    return 0;
}

/* Free the reader and grammar states of one step. */
void ag_decoder_free(ag_decoder *d)
{
    ag_parser_free(d->parser);
    ag_gstate_free(d->call_s);
    ag_gstate_free(d->json_s);
    memset(d, 0, sizeof *d);
}

/* Follow a sampled token: grammars first (they need the state before it), then the parser. */
void ag_decoder_token(ag_decoder *d, int32_t tok)
{
    int syms[256];
    size_t n = ag_vocab_syms(d->v, tok, syms, 256);
    if (n > 256) n = 256;
    int st = ag_parser_state(d->parser);
    if (st == AG_PS_THOUGHT) d->thought_tokens++;
    if (st == AG_PS_CALL && d->call_s)
        for (size_t i = 0; i < n; i++) if (ag_gstate_step(d->call_s, syms[i])) break;
    if (st == AG_PS_TEXT && d->json_s && !d->json_done && n && syms[0] < 256 && !d->json_broken) {
        d->json_started = true;
        for (size_t i = 0; i < n; i++)
            if (ag_gstate_step(d->json_s, syms[i])) { d->json_broken = true; break; }
        if (!d->json_broken && ag_gstate_done(d->json_s)) {
            /* a number may still grow; a closed object or array cannot */
            int last = syms[n - 1];
            if (last == '}' || last == ']' || last == '"' || last == 'e' || last == 'l') d->json_done = true;
        }
    }
    if (n == 1 && syms[0] == AG_SYM_CALL_OPEN) {
        if (d->call_s) ag_gstate_reset(d->call_s);
        d->force_call = false;
        d->call_done = false;
    }
    if (n == 1 && syms[0] == AG_SYM_CALL_CLOSE) d->call_done = true;
    if (n == 1 && syms[0] == AG_SYM_CH_OPEN) d->saw_thought = true;
    ag_parser_feed_sym(d->parser, syms, n);
}

static void set_bit(uint32_t *a, int32_t t) { if (t >= 0) a[t / 32] |= 1u << (t % 32); }
static void clr_bit(uint32_t *a, int32_t t) { if (t >= 0) a[t / 32] &= ~(1u << (t % 32)); }

/* Only the given control symbols (-1 terminated). */
static int only(const ag_decoder *d, uint32_t *allow, int vocab, const int *syms)
{
    memset(allow, 0, ((size_t)vocab + 31) / 32 * sizeof *allow);
    int k = 0;
    for (; *syms >= 0; syms++) {
        int32_t t = ag_vocab_sym_token(d->v, *syms);
        if (t >= 0 && t < vocab) { set_bit(allow, t); k++; }
    }
    return k ? 1 : 0;   /* a vocabulary without these tokens: no constraint */
}

/* The mask hook: which tokens may come next, given where the output is. */
int ag_decoder_mask(ag_decoder *d, uint32_t *allow, int vocab)
{
    int st = ag_parser_state(d->parser);
    int32_t call_open = ag_vocab_sym_token(d->v, AG_SYM_CALL_OPEN);
    if (st == AG_PS_CALL) {
        if (!d->call_s) return 0;
        memset(allow, 0, ((size_t)vocab + 31) / 32 * sizeof *allow);
        if (vocab < ag_vocab_size(d->v)) return 0;
        return ag_mask_compute(d->v, d->call_s, allow) > 0 ? 1 : 0;
    }
    if (st == AG_PS_THOUGHT) {
        if (d->think_budget > 0 && d->thought_tokens >= d->think_budget) {
            d->budget_closed = true;
            return only(d, allow, vocab, (const int[]){AG_SYM_CH_CLOSE, -1});
        }
        if (!d->force_call && !d->no_calls) return 0;
        if (d->no_calls) clr_bit(allow, call_open);
        if (d->force_call) {
            clr_bit(allow, ag_vocab_sym_token(d->v, AG_SYM_TURN_CLOSE));
            clr_bit(allow, ag_vocab_sym_token(d->v, AG_SYM_EOS));
            clr_bit(allow, ag_vocab_sym_token(d->v, AG_SYM_RESP_OPEN));
        }
        return 1;
    }
    if (d->call_done && !d->no_calls)
        return only(d, allow, vocab, (const int[]){AG_SYM_CALL_OPEN, AG_SYM_RESP_OPEN, -1});
    if (d->force_call) {
        if (d->think && !d->saw_thought)
            return only(d, allow, vocab, (const int[]){AG_SYM_CALL_OPEN, AG_SYM_CH_OPEN, -1});
        return only(d, allow, vocab, (const int[]){AG_SYM_CALL_OPEN, -1});
    }
    if (d->json_s && !d->json_broken) {
        if (d->json_done)
            return only(d, allow, vocab, (const int[]){AG_SYM_TURN_CLOSE, AG_SYM_EOS, -1});
        memset(allow, 0, ((size_t)vocab + 31) / 32 * sizeof *allow);
        if (vocab < ag_vocab_size(d->v)) return 0;
        int k = ag_mask_compute(d->v, d->json_s, allow);
        if (ag_gstate_done(d->json_s)) {     /* a finished number may end the answer */
            set_bit(allow, ag_vocab_sym_token(d->v, AG_SYM_TURN_CLOSE));
            k++;
        }
        if (!d->json_started) {
            if (!d->no_calls) { set_bit(allow, call_open); k++; }
            if (d->think && !d->saw_thought) { set_bit(allow, ag_vocab_sym_token(d->v, AG_SYM_CH_OPEN)); k++; }
        }
        return k > 0 ? 1 : 0;
    }
    if (d->no_calls && call_open >= 0) { clr_bit(allow, call_open); return 1; }
    return 0;
}
