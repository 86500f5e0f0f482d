/* GGUF writer/reader round trip: every metadata value type (scalars,
 * strings, arrays of each), several tensor types (including one produced by
 * a fill callback), two alignments; then the reader on the written bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "gguf.h"
#include "quant.h"

static int fill_q4k(void *ud, void *dst, size_t nbytes, gm_err *err)
{
    (void)err;
    const float *src = ud;
    return gm_quantize_row(GM_TYPE_Q4_K, src, dst, (int64_t)(nbytes / 144 * 256));
}

static void roundtrip(uint32_t align)
{
    char path[256];
    snprintf(path, sizeof path, "/tmp/gemmash_test_rw_%d_%u.gguf", (int)getpid(), align);
    gm_err err = {0};
    gm_gguf_writer *w = gm_gguf_writer_new(&err);
    uint8_t u8 = 200; int8_t i8 = -100; uint16_t u16 = 60000; int16_t i16 = -30000;
    int64_t i64 = -5000000000LL; uint64_t u64 = 18000000000000000000ULL; double f64 = 3.141592653589793;
    gm_gguf_set_str(w, "general.architecture", "gemma4");
    if (align != 32) gm_gguf_set_u32(w, "general.alignment", align);
    gm_gguf_set_scalar(w, "t.u8", GM_GGUF_U8, &u8);
    gm_gguf_set_scalar(w, "t.i8", GM_GGUF_I8, &i8);
    gm_gguf_set_scalar(w, "t.u16", GM_GGUF_U16, &u16);
    gm_gguf_set_scalar(w, "t.i16", GM_GGUF_I16, &i16);
    gm_gguf_set_u32(w, "t.u32", 4000000000u);
    gm_gguf_set_i32(w, "t.i32", -2000000000);
    gm_gguf_set_f32(w, "t.f32", 1e-6f);
    gm_gguf_set_bool(w, "t.bool", true);
    gm_gguf_set_scalar(w, "t.u64", GM_GGUF_U64, &u64);
    gm_gguf_set_scalar(w, "t.i64", GM_GGUF_I64, &i64);
    gm_gguf_set_scalar(w, "t.f64", GM_GGUF_F64, &f64);
    gm_gguf_set_str(w, "t.utf8", "caf\xc3\xa9 \xe2\x96\x81 <|turn>");
    uint8_t au8[3] = {1, 2, 255}; int8_t ai8[2] = {-1, 127}; uint16_t au16[2] = {7, 65535};
    int16_t ai16[2] = {-7, 32767}; uint32_t au32[3] = {6144, 6144, 12288}; int32_t ai32[2] = {-1, 1 << 30};
    float af32[4] = {1.0f, 1.0f, 1e30f, 1e30f}; uint8_t abool[5] = {1, 1, 0, 1, 0};
    uint64_t au64[2] = {1, u64}; int64_t ai64[2] = {i64, 9}; double af64[2] = {0.5, -2.25};
    gm_gguf_set_arr(w, "a.u8", GM_GGUF_U8, au8, 3);
    gm_gguf_set_arr(w, "a.i8", GM_GGUF_I8, ai8, 2);
    gm_gguf_set_arr(w, "a.u16", GM_GGUF_U16, au16, 2);
    gm_gguf_set_arr(w, "a.i16", GM_GGUF_I16, ai16, 2);
    gm_gguf_set_arr(w, "a.u32", GM_GGUF_U32, au32, 3);
    gm_gguf_set_arr(w, "a.i32", GM_GGUF_I32, ai32, 2);
    gm_gguf_set_arr(w, "a.f32", GM_GGUF_F32, af32, 4);
    gm_gguf_set_arr(w, "a.bool", GM_GGUF_BOOL, abool, 5);
    gm_gguf_set_arr(w, "a.u64", GM_GGUF_U64, au64, 2);
    gm_gguf_set_arr(w, "a.i64", GM_GGUF_I64, ai64, 2);
    gm_gguf_set_arr(w, "a.f64", GM_GGUF_F64, af64, 2);
    const char *strs[4] = {"<pad>", "\xe2\x96\x81the", "", "a b"};
    gm_gguf_set_arr_str(w, "a.str", strs, 4);
    gm_gguf_set_arr(w, "a.empty", GM_GGUF_I32, NULL, 0);

    float f32[5 * 3];
    for (int i = 0; i < 15; i++) f32[i] = (float)i * 0.25f - 1.0f;
    uint16_t bf16[64], f16[64];
    for (int i = 0; i < 64; i++) { bf16[i] = gm_f32_to_bf16((float)i); f16[i] = gm_f32_to_f16((float)-i); }
    static float big[512 * 3];
    for (int i = 0; i < 512 * 3; i++) big[i] = sinf((float)i);
    gm_block_q8_0 q8[4];
    gm_quantize_row(GM_TYPE_Q8_0, big, q8, 128);
    int64_t ne_f32[2] = {5, 3}, ne_16[1] = {64}, ne_q8[2] = {64, 2}, ne_q4k[3] = {256, 3, 2};
    gm_gguf_add_tensor(w, "f32.weight", GM_TYPE_F32, 2, ne_f32, f32, sizeof f32);
    gm_gguf_add_tensor(w, "bf16.weight", GM_TYPE_BF16, 1, ne_16, bf16, sizeof bf16);
    gm_gguf_add_tensor(w, "f16.weight", GM_TYPE_F16, 1, ne_16, f16, sizeof f16);
    gm_gguf_add_tensor(w, "q8.weight", GM_TYPE_Q8_0, 2, ne_q8, q8, sizeof q8);
    gm_gguf_add_tensor_fn(w, "blk.0.ffn_down_exps.weight", GM_TYPE_Q4_K, 3, ne_q4k, fill_q4k, big);
    int rc = gm_gguf_write(w, path, &err);
    CHECK(rc == 0, "align %u: writer writes a file (%s)", align, err.msg);
    gm_gguf_writer_free(w);

    gm_gguf *g = gm_gguf_open(path, &err);
    CHECK(g != NULL, "align %u: reader accepts the written file (%s)", align, g ? "" : err.msg);
    if (!g) return;
    CHECK(g->version == 3 && g->alignment == align && g->data_off % align == 0,
          "align %u: version 3, alignment and data offset agree", align);
    const gm_gguf_kv *kv;
    int64_t iv; double dv;
    int ok = 1;
    ok &= (kv = gm_gguf_find_kv(g, "t.u8")) && kv->type == GM_GGUF_U8 && kv->v.i == 200;
    ok &= (kv = gm_gguf_find_kv(g, "t.i8")) && kv->type == GM_GGUF_I8 && kv->v.i == -100;
    ok &= (kv = gm_gguf_find_kv(g, "t.u16")) && kv->type == GM_GGUF_U16 && kv->v.i == 60000;
    ok &= (kv = gm_gguf_find_kv(g, "t.i16")) && kv->type == GM_GGUF_I16 && kv->v.i == -30000;
    ok &= (kv = gm_gguf_find_kv(g, "t.u32")) && kv->type == GM_GGUF_U32 && kv->v.i == 4000000000LL;
    ok &= (kv = gm_gguf_find_kv(g, "t.i32")) && kv->type == GM_GGUF_I32 && kv->v.i == -2000000000;
    ok &= (kv = gm_gguf_find_kv(g, "t.f32")) && kv->type == GM_GGUF_F32 && (float)kv->v.f == 1e-6f;
    ok &= (kv = gm_gguf_find_kv(g, "t.bool")) && kv->type == GM_GGUF_BOOL && kv->v.b;
    ok &= (kv = gm_gguf_find_kv(g, "t.u64")) && kv->type == GM_GGUF_U64 && kv->v.u == u64 && !gm_gguf_int(kv, 0, &iv);
    ok &= (kv = gm_gguf_find_kv(g, "t.i64")) && kv->type == GM_GGUF_I64 && kv->v.i == i64;
    ok &= (kv = gm_gguf_find_kv(g, "t.f64")) && kv->type == GM_GGUF_F64 && kv->v.f == f64;
    ok &= (kv = gm_gguf_find_kv(g, "t.utf8")) && kv->type == GM_GGUF_STR && !strcmp(kv->str, "caf\xc3\xa9 \xe2\x96\x81 <|turn>");
    CHECK(ok, "align %u: every scalar type and a UTF-8 string read back identical", align);
    ok = 1;
    ok &= (kv = gm_gguf_find_kv(g, "a.u8")) && kv->arr_type == GM_GGUF_U8 && kv->n == 3 && gm_gguf_int(kv, 2, &iv) && iv == 255;
    ok &= (kv = gm_gguf_find_kv(g, "a.i8")) && kv->n == 2 && gm_gguf_int(kv, 0, &iv) && iv == -1;
    ok &= (kv = gm_gguf_find_kv(g, "a.u16")) && gm_gguf_int(kv, 1, &iv) && iv == 65535;
    ok &= (kv = gm_gguf_find_kv(g, "a.i16")) && gm_gguf_int(kv, 0, &iv) && iv == -7;
    ok &= (kv = gm_gguf_find_kv(g, "a.u32")) && kv->n == 3 && gm_gguf_int(kv, 2, &iv) && iv == 12288;
    ok &= (kv = gm_gguf_find_kv(g, "a.i32")) && gm_gguf_int(kv, 1, &iv) && iv == 1 << 30;
    ok &= (kv = gm_gguf_find_kv(g, "a.f32")) && gm_gguf_num(kv, 2, &dv) && (float)dv == 1e30f && !gm_gguf_num(kv, 4, &dv);
    ok &= (kv = gm_gguf_find_kv(g, "a.bool")) && kv->n == 5 && gm_gguf_int(kv, 3, &iv) && iv == 1 && gm_gguf_int(kv, 4, &iv) && iv == 0;
    ok &= (kv = gm_gguf_find_kv(g, "a.u64")) && gm_gguf_num(kv, 1, &dv) && dv == (double)u64;
    ok &= (kv = gm_gguf_find_kv(g, "a.i64")) && gm_gguf_int(kv, 0, &iv) && iv == i64;
    ok &= (kv = gm_gguf_find_kv(g, "a.f64")) && gm_gguf_num(kv, 1, &dv) && dv == -2.25;
    ok &= (kv = gm_gguf_find_kv(g, "a.str")) && kv->arr_type == GM_GGUF_STR && kv->n == 4 &&
          !strcmp(kv->strs[1], "\xe2\x96\x81the") && !strcmp(kv->strs[2], "") && !strcmp(kv->strs[3], "a b");
    ok &= (kv = gm_gguf_find_kv(g, "a.empty")) && kv->n == 0 && !gm_gguf_int(kv, 0, &iv);
    CHECK(ok, "align %u: arrays of every element type (and an empty one) read back identical", align);
    const gm_gguf_tensor *t;
    ok = 1;
    ok &= (t = gm_gguf_find_tensor(g, "f32.weight")) && t->n_dims == 2 && t->ne[0] == 5 && t->ne[1] == 3 &&
          t->t.type == GM_TYPE_F32 && !memcmp(t->t.data, f32, sizeof f32);
    ok &= (t = gm_gguf_find_tensor(g, "bf16.weight")) && t->t.type == GM_TYPE_BF16 && !memcmp(t->t.data, bf16, sizeof bf16);
    ok &= (t = gm_gguf_find_tensor(g, "f16.weight")) && t->t.type == GM_TYPE_F16 && !memcmp(t->t.data, f16, sizeof f16);
    ok &= (t = gm_gguf_find_tensor(g, "q8.weight")) && t->t.type == GM_TYPE_Q8_0 && t->t.row_bytes == 68 &&
          !memcmp(t->t.data, q8, sizeof q8);
    for (int64_t i = 0; i < g->n_tensors; i++) ok &= g->tensors[i].offset % align == 0;
    CHECK(ok, "align %u: F32, BF16, F16 and Q8_0 tensors read back byte-identical, offsets aligned", align);
    t = gm_gguf_find_tensor(g, "blk.0.ffn_down_exps.weight");
    static unsigned char q4k[6 * 144];
    gm_quantize_row(GM_TYPE_Q4_K, big, q4k, 256 * 6);
    CHECK(t && t->n_dims == 3 && t->t.ne[2] == 2 && t->t.nbytes == sizeof q4k && !memcmp(t->t.data, q4k, sizeof q4k),
          "align %u: a 3D Q4_K expert stack written through a fill callback reads back identical", align);
    CHECK(gm_gguf_find_tensor(g, "absent") == NULL && gm_gguf_find_kv(g, "absent") == NULL,
          "align %u: absent names are reported absent", align);
    gm_gguf_close(g);
    unlink(path);
}

/* Writing over a FIFO (as over -o /dev/null) must fail and leave it a FIFO:
 * the writer renames a temporary file over its output. */
static void not_over_special(void)
{
    char path[256];
    snprintf(path, sizeof path, "/tmp/gemmash_test_rw_fifo_%d", (int)getpid());
    unlink(path);
    if (!CHECK(mkfifo(path, 0600) == 0, "a FIFO to write over can be made")) return;
    gm_err err = {0};
    gm_gguf_writer *w = gm_gguf_writer_new(&err);
    int rc = w ? gm_gguf_set_u32(w, "general.alignment", 32) : -1;
    if (!rc) rc = gm_gguf_write(w, path, &err);
    struct stat st;
    CHECK(rc != 0 && strstr(err.msg, "not a regular file") && stat(path, &st) == 0 && S_ISFIFO(st.st_mode),
          "writing a GGUF over a FIFO is refused and the FIFO stays: %s", err.msg);
    gm_gguf_writer_free(w);
    unlink(path);
}

int main(void)
{
    not_over_special();
    roundtrip(32);
    roundtrip(64);
    gm_err err = {0};
    CHECK(gm_gguf_open("/nonexistent/x.gguf", &err) == NULL && strstr(err.msg, "/nonexistent/x.gguf") &&
          err.code == GM_E_IO, "a missing file is reported with its path: %s", err.msg);
    return check_exit();
}
