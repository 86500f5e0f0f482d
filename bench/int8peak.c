/* int8peak.c: the machine's int8 multiply-add peak with every pool thread
 * running at once: qpeak_avx512.c's vpdpbusd loop where the CPU has
 * AVX-512 VNNI, else qpeak_avx2.c's vpmaddubsw loop.  Quantized prefill is
 * read against it the way float prefill is read against the FMA peak.
 * Link with the two qpeak objects (compiled with their ISA flags). */
#include "measure.h"
#include "quant.h"

double gm_bench_peak_avx2(double seconds);
double gm_bench_peak_avx512(double seconds);

typedef struct { int avx512; double seconds; double gops[256]; } peak_job;

/* One thread's share: its own core's loop, timed alone. */
static void peak_worker(void *arg, int ith, int nth)
{
    (void)nth;
    peak_job *j = arg;
    double g = j->avx512 ? gm_bench_peak_avx512(j->seconds) : gm_bench_peak_avx2(j->seconds);
    if (ith < 256) j->gops[ith] = g;
}

double bench_int8_peak(gm_pool *p, double seconds, const char **kind)
{
    peak_job j = { gm_qisa_supported(GM_QISA_AVX512), seconds, {0} };
    if (!j.avx512 && !gm_qisa_supported(GM_QISA_AVX2)) return -1;
    gm_pool_run(p, peak_worker, &j);
    double all = 0;
    for (int i = 0; i < gm_pool_size(p) && i < 256; i++) all += j.gops[i];
    if (kind) *kind = j.avx512 ? "avx512 vnni" : "avx2 maddubs";
    return all;
}
