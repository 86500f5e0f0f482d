/* cmd_tokenize.c: `gemmash tokenize` and `gemmash detokenize`, the
 * tokenizer's command-line face: for checking ids against other tools and
 * for scripts that count or inspect tokens. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "commands.h"
#include "engine.h"

/* The options both commands share. */
typedef struct tok_opts {
    const char *model, *tokenizer;
    bool plain, skip_special, stream, timing;
    const char **files;
    int n_files;
} tok_opts;

/* The manual page of `gemmash tokenize`. */
static void tokenize_usage(FILE *f)
{
    fputs("NAME\n"
          "    gemmash tokenize - print the token ids of a text\n\n"
          "SYNOPSIS\n"
          "    gemmash tokenize (-m MODEL | --tokenizer FILE) [OPTIONS] TEXT\n"
          "    gemmash tokenize (-m MODEL | --tokenizer FILE) [OPTIONS] -\n"
          "    gemmash tokenize (-m MODEL | --tokenizer FILE) [OPTIONS] -f FILE [-f FILE]...\n\n"
          "DESCRIPTION\n"
          "    Encodes TEXT (or standard input for '-') with the model's tokenizer and\n"
          "    prints the ids as one JSON array on one line.  No BOS is added: write\n"
          "    \"<bos>\" in the text if you want it.  Control tokens written in the text\n"
          "    (\"<|turn>\", \"<bos>\", ...) become their ids unless --plain is given.\n\n"
          "OPTIONS\n"
          "    -m, --model MODEL      a model folder (its tokenizer.json) or a .gguf file\n"
          "    -t, --tokenizer FILE   a tokenizer.json file\n"
          "    -f, --file FILE        encode FILE; repeatable; one array per line per file\n"
          "        --plain            control-token text stays text\n"
          "        --time             print bytes, ids, wall and CPU seconds of the\n"
          "                           encoding and its speed to standard error\n"
          "    -h, --help             this page\n\n"
          "EXIT STATUS\n"
          "    0 done, 1 a file could not be read, 2 usage error, 3 the tokenizer\n"
          "    could not be loaded or the text could not be encoded.\n", f);
}

/* The manual page of `gemmash detokenize`. */
static void detokenize_usage(FILE *f)
{
    fputs("NAME\n"
          "    gemmash detokenize - print the text of token ids\n\n"
          "SYNOPSIS\n"
          "    gemmash detokenize (-m MODEL | --tokenizer FILE) [OPTIONS] IDS\n"
          "    gemmash detokenize (-m MODEL | --tokenizer FILE) [OPTIONS] -\n\n"
          "DESCRIPTION\n"
          "    Decodes IDS (or standard input for '-'), written as a JSON array or\n"
          "    separated by commas or spaces, and prints the text exactly, with no\n"
          "    newline added.  '▁' becomes a space, <0xXX> tokens become bytes, and\n"
          "    bytes that do not form UTF-8 come out as U+FFFD.\n\n"
          "OPTIONS\n"
          "    -m, --model MODEL      a model folder (its tokenizer.json) or a .gguf file\n"
          "    -t, --tokenizer FILE   a tokenizer.json file\n"
          "        --skip-special     leave out control tokens (<bos>, <|turn>, ...)\n"
          "        --stream           decode one id at a time, as generation does\n"
          "    -h, --help             this page\n\n"
          "EXIT STATUS\n"
          "    0 done, 1 input could not be read, 2 usage error, 3 the tokenizer\n"
          "    could not be loaded.\n", f);
}

/* Read a whole stream into a malloc'd buffer; NULL on failure. */
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) return NULL;
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); return NULL; }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) { free(buf); return NULL; }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Load the tokenizer named by -m or --tokenizer; prints why not. */
static gm_tokenizer *load_tokenizer(const char *cmd, const tok_opts *o)
{
    char path[4096];
    const char *file = o->tokenizer;
    if (o->model) {
        struct stat st;
        if (stat(o->model, &st) != 0) {
            fprintf(stderr, "gemmash %s: model %s: %s\n", cmd, o->model, strerror(errno));
            return NULL;
        }
        if (!S_ISDIR(st.st_mode)) {     /* a GGUF file: its tokenizer.ggml.* vocabulary */
            gm_err err = {0};
            gm_tokenizer *tok = gm_tok_load_gguf(o->model, &err);
            if (!tok) fprintf(stderr, "gemmash %s: %s\n", cmd, err.msg);
            return tok;
        }
        if ((size_t)snprintf(path, sizeof path, "%s/tokenizer.json", o->model) >= sizeof path) {
            fprintf(stderr, "gemmash %s: model path too long: %s\n", cmd, o->model);
            return NULL;
        }
        file = path;
    }
    gm_err err = {0};
    gm_tokenizer *tok = gm_tok_load_json(file, &err);
    if (!tok) fprintf(stderr, "gemmash %s: %s\n", cmd, err.msg);
    return tok;
}

/* Parse the shared options; returns optind, or -1 after printing usage
 * (with *rc set). */
static int parse_opts(int argc, char **argv, bool detok, tok_opts *o, int *rc)
{
    enum { O_PLAIN = 256, O_SKIP, O_STREAM, O_TIME };
    static const struct option lo[] = {
        {"model", required_argument, 0, 'm'}, {"tokenizer", required_argument, 0, 't'},
        {"file", required_argument, 0, 'f'}, {"plain", no_argument, 0, O_PLAIN},
        {"skip-special", no_argument, 0, O_SKIP}, {"stream", no_argument, 0, O_STREAM},
        {"time", no_argument, 0, O_TIME}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    void (*usage)(FILE *) = detok ? detokenize_usage : tokenize_usage;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, detok ? "m:t:h" : "m:t:f:h", lo, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case 't': o->tokenizer = optarg; break;
        case 'f':
            if (!o->files) { usage(stderr); *rc = GM_EXIT_USAGE; return -1; }
            o->files[o->n_files++] = optarg;
            break;
        case O_PLAIN: o->plain = true; break;
        case O_SKIP: o->skip_special = true; break;
        case O_STREAM: o->stream = true; break;
        case O_TIME: o->timing = true; break;
        case 'h': usage(stdout); *rc = GM_EXIT_OK; return -1;
        default: usage(stderr); *rc = GM_EXIT_USAGE; return -1;
        }
    }
    if (!o->model == !o->tokenizer) {
        fprintf(stderr, "gemmash %s: give exactly one of -m MODEL or --tokenizer FILE\n",
                detok ? "detokenize" : "tokenize");
        *rc = GM_EXIT_USAGE;
        return -1;
    }
    return optind;
}

/* Print ids as a JSON array and a newline. */
static void print_ids(const int32_t *ids, size_t n)
{
    putchar('[');
    for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
    fputs("]\n", stdout);
}

/* Encode one text and print it; returns an exit status. */
static int encode_print(const gm_tokenizer *tok, const tok_opts *o, const char *what,
                        const char *text, size_t len)
{
    int32_t *ids;
    size_t n;
    gm_err err = {0};
    struct timespec a, z, ca, cz;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
    if (gm_tok_encode(tok, text, len, !o->plain, &ids, &n, &err) < 0) {
        fprintf(stderr, "gemmash tokenize: %s: %s\n", what, err.msg);
        return GM_EXIT_MODEL;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cz);
    clock_gettime(CLOCK_MONOTONIC, &z);
    double s = (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
    double cpu = (double)(cz.tv_sec - ca.tv_sec) + (double)(cz.tv_nsec - ca.tv_nsec) / 1e9;
    print_ids(ids, n);
    if (o->timing)
        fprintf(stderr, "%s: %zu bytes, %zu ids, %.4f s, %.4f s cpu, %.1f MB/s cpu\n", what, len, n, s,
                cpu, cpu > 0 ? (double)len / cpu / 1e6 : 0.0);
    free(ids);
    return GM_EXIT_OK;
}

/* `gemmash tokenize`: text or files -> one JSON array of ids per text. */
int cmd_tokenize(int argc, char **argv)
{
    tok_opts o = {0};
    int rc = GM_EXIT_OK;
    o.files = calloc((size_t)argc + 1, sizeof *o.files);
    if (!o.files) { fputs("gemmash tokenize: out of memory\n", stderr); return GM_EXIT_INTERNAL; }
    int first = parse_opts(argc, argv, false, &o, &rc);
    if (first < 0) goto out;
    if ((o.n_files > 0) == (first < argc) || argc - first > 1) {
        fputs("gemmash tokenize: give one TEXT (or '-' for standard input), or -f FILE options\n", stderr);
        rc = GM_EXIT_USAGE;
        goto out;
    }
    gm_tokenizer *tok = load_tokenizer("tokenize", &o);
    if (!tok) { rc = GM_EXIT_MODEL; goto out; }
    if (o.n_files == 0 && strcmp(argv[first], "-") != 0) {
        rc = encode_print(tok, &o, "argument", argv[first], strlen(argv[first]));
    } else {
        int nf = o.n_files ? o.n_files : 1;
        for (int i = 0; i < nf && rc == GM_EXIT_OK; i++) {
            const char *name = o.n_files ? o.files[i] : "standard input";
            FILE *f = o.n_files ? fopen(name, "rb") : stdin;
            size_t len = 0;
            char *text = f ? read_all(f, &len) : NULL;
            if (!text) {
                fprintf(stderr, "gemmash tokenize: cannot read %s: %s\n", name, strerror(errno));
                rc = GM_EXIT_INTERNAL;
            } else {
                rc = encode_print(tok, &o, name, text, len);
            }
            free(text);
            if (f && f != stdin) fclose(f);
        }
    }
    gm_tok_free(tok);
out:
    free(o.files);
    return rc;
}

/* Parse ids written as a JSON array or separated by commas/whitespace. */
static int32_t *parse_ids(const char *s, size_t *n)
{
    size_t cap = 64;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) return NULL;
    *n = 0;
    while (*s) {
        if (strchr("[], \t\r\n", *s)) { s++; continue; }
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 0 || v > INT32_MAX) {
            fprintf(stderr, "gemmash detokenize: bad id near \"%.20s\"; expected non-negative "
                    "integers\n", s);
            free(ids);
            return NULL;
        }
        if (*n == cap) {
            int32_t *ni = realloc(ids, cap * 2 * sizeof *ids);
            if (!ni) { free(ids); return NULL; }
            ids = ni;
            cap *= 2;
        }
        ids[(*n)++] = (int32_t)v;
        s = end;
    }
    return ids;
}

/* Decode with the streaming decoder, writing each step's output. */
static int stream_out(const gm_tokenizer *tok, const int32_t *ids, size_t n, bool skip)
{
    size_t cap = gm_detok_bound(tok);
    char *buf = malloc(cap);
    if (!buf) return -1;
    gm_detok d;
    gm_detok_init(&d);
    for (size_t i = 0; i < n; i++) {
        int32_t t = gm_tok_type(tok, ids[i]);
        if (skip && (t == GM_TOK_CONTROL || t == GM_TOK_UNKNOWN)) continue;
        fwrite(buf, 1, gm_detok_push(tok, &d, ids[i], buf, cap), stdout);
    }
    fwrite(buf, 1, gm_detok_flush(&d, buf, cap), stdout);
    free(buf);
    return 0;
}

/* `gemmash detokenize`: ids -> exact text on standard output. */
int cmd_detokenize(int argc, char **argv)
{
    tok_opts o = {0};
    int rc = GM_EXIT_OK;
    int first = parse_opts(argc, argv, true, &o, &rc);
    if (first < 0) return rc;
    if (argc - first != 1) {
        fputs("gemmash detokenize: give the ids as one argument, or '-' for standard input\n", stderr);
        return GM_EXIT_USAGE;
    }
    char *in = NULL;
    const char *text = argv[first];
    if (strcmp(text, "-") == 0) {
        size_t len;
        in = read_all(stdin, &len);
        if (!in) {
            fprintf(stderr, "gemmash detokenize: cannot read standard input: %s\n", strerror(errno));
            return GM_EXIT_INTERNAL;
        }
        text = in;
    }
    size_t n = 0;
    int32_t *ids = parse_ids(text, &n);
    free(in);
    if (!ids) return GM_EXIT_USAGE;
    gm_tokenizer *tok = load_tokenizer("detokenize", &o);
    if (!tok) { free(ids); return GM_EXIT_MODEL; }
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= gm_tok_vocab_size(tok)) {
            fprintf(stderr, "gemmash detokenize: id %d is outside the vocabulary (0..%d)\n",
                    ids[i], gm_tok_vocab_size(tok) - 1);
            rc = GM_EXIT_USAGE;
            goto out;
        }
    }
    if (o.stream) {
        if (stream_out(tok, ids, n, o.skip_special) < 0) rc = GM_EXIT_INTERNAL;
    } else {
        size_t len;
        char *s = gm_tok_decode_n(tok, ids, n, o.skip_special, &len);
        if (!s) rc = GM_EXIT_INTERNAL;
        else fwrite(s, 1, len, stdout);
        free(s);
    }
    if (rc == GM_EXIT_INTERNAL) fputs("gemmash detokenize: out of memory\n", stderr);
out:
    free(ids);
    gm_tok_free(tok);
    return rc;
}
