/* cli.h: small helpers shared by the command-line front ends: strict number
 * parsing with messages that name the option, reading stdin, loading a model
 * with a one-line error, parsing token id lists. */
#ifndef GEMMASH_CLI_H
#define GEMMASH_CLI_H
#include <stdint.h>
#include <stdio.h>
#include "engine.h"

int       cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int       cli_parse_float(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);
char     *cli_slurp(FILE *f, size_t *len);
gm_model *cli_load_model(const char *cmd, const char *path, int threads, const char *quant, gm_kv_type kv);
/* --kv-type's value ("f16" or "f32") into *out; prints why not and returns -1. */
int       cli_parse_kv(const char *cmd, const char *s, gm_kv_type *out);
int       cli_parse_ids(const char *s, int32_t **ids, size_t *n);
#endif
