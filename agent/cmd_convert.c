/* cmd_convert.c: `gemmash convert`: a Hugging Face Gemma 4 checkpoint folder
 * written as one GGUF file that both gemmash and llama.cpp load (same keys,
 * tensor names, types and alignment as llama.cpp's converter). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "commands.h"
#include "engine.h"
#include "gguf.h"
#include "source.h"

/* The manual page of the command. */
static void convert_usage(FILE *f)
{
    fputs("NAME\n"
          "    gemmash convert - write a Gemma 4 checkpoint as a GGUF file\n\n"
          "SYNOPSIS\n"
          "    gemmash convert -m HF_DIR -o FILE.gguf [--type TYPE] [--threads N] [-v]\n\n"
          "OPTIONS\n"
          "    -m, --model DIR     Hugging Face checkpoint folder (config.json, tokenizer.json,\n"
          "                        safetensors); the released multimodal layout is accepted,\n"
          "                        only the text decoder is written\n"
          "    -o, --output FILE   the GGUF file to write (written to FILE.tmp, then renamed)\n"
          "    -t, --type TYPE     bf16 (default), q8_0, q4_0, q4_1, q4_k_m, q5_k_m, q3_k_m,\n"
          "                        q2_k, iq4_nl, iq4_xs, f16 or f32.  The K types are\n"
          "                        llama.cpp-style mixes (Q6_K for the embeddings; more bits\n"
          "                        for some attn_v/ffn_down layers); iq4_xs keeps the\n"
          "                        embeddings in Q6_K.  Norms and scalars stay F32; a matrix\n"
          "                        whose rows do not fit the block size falls back as\n"
          "                        llama.cpp does (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0,\n"
          "                        Q2_K/Q3_K/IQ4_XS -> IQ4_NL, then -> F16)\n"
          "        --threads N     threads for quantization (default: physical cores)\n"
          "    -v, --verbose       print each tensor's name, source and target type\n\n"
          "EXIT STATUS\n"
          "    0 written, 2 usage error, 3 the checkpoint could not be read or written.\n", f);
}

int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"output", required_argument, NULL, 'o'},
        {"type", required_argument, NULL, 't'}, {"threads", required_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *model = NULL, *out = NULL, *type = "bf16";
    int threads = 0, c;
    bool verbose = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:t:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'o': out = optarg; break;
        case 't': type = optarg; break;
        case 'j': threads = atoi(optarg); break;
        case 'v': verbose = true; break;
        case 'h': convert_usage(stdout); return GM_EXIT_OK;
        default: convert_usage(stderr); return GM_EXIT_USAGE;
        }
    }
    if (!model || !out || optind != argc) {
        fprintf(stderr, "gemmash convert: need -m HF_DIR and -o FILE.gguf (see gemmash convert --help)\n");
        return GM_EXIT_USAGE;
    }
    static const char *const types[] = {"bf16", "q8_0", "q4_0", "q4_1", "q4_k_m", "q5_k_m", "q3_k_m",
                                        "q2_k", "iq4_nl", "iq4_xs", "f16", "f32"};
    bool known = false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) known |= strcmp(types[i], type) == 0;
    if (!known) {
        fprintf(stderr, "gemmash convert: unknown --type '%s'; use bf16, q8_0, q4_0, q4_1, q4_k_m, q5_k_m, "
                "q3_k_m, q2_k, iq4_nl, iq4_xs, f16 or f32\n", type);
        return GM_EXIT_USAGE;
    }
    struct stat st;
    if (stat(model, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "gemmash convert: %s is not a checkpoint folder (convert reads Hugging Face folders; "
                "a GGUF file is already converted)\n", model);
        return GM_EXIT_USAGE;
    }
    gm_err err = {0};
    gm_pool *pool = gm_pool_new(threads, &err);
    gm_source *src = pool ? gm_source_open_hf(model, &err) : NULL;
    int rc = GM_EXIT_MODEL;
    if (src) {
        size_t n = strlen(model) + sizeof "/tokenizer.json";
        char *tok = malloc(n);
        if (tok) {
            snprintf(tok, n, "%s/tokenizer.json", model);
            if (gm_gguf_convert(src, tok, out, type, pool, verbose, &err) == 0) rc = GM_EXIT_OK;
            free(tok);
        } else {
            gm_err_set(&err, GM_E_NOMEM, "out of memory");
        }
        src->free(src);
    }
    if (rc != GM_EXIT_OK) fprintf(stderr, "gemmash convert: %s\n", err.msg);
    else if (verbose) fprintf(stderr, "gemmash convert: wrote %s (%s)\n", out, type);
    gm_pool_free(pool);
    return rc;
}
