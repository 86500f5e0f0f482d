/* membw.c: print this machine's memory bandwidth (streaming read and copy)
 * and FMA peak (AVX-512 and AVX2), measured on the engine's thread pool.
 * Usage: membw [--threads N] [--mib SIZE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measure.h"

int main(int argc, char **argv)
{
    int threads = 0;
    size_t mib = 1024;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mib") && i + 1 < argc) mib = (size_t)atol(argv[++i]);
        else { fprintf(stderr, "usage: membw [--threads N] [--mib SIZE]\n"); return 2; }
    }
    gm_err err = {0};
    gm_pool *p = gm_pool_new(threads, &err);
    if (!p) { fprintf(stderr, "membw: %s\n", err.msg); return 1; }
    char cpu[256];
    bench_cpu_name(cpu, sizeof cpu);
    printf("cpu            %s, %d threads, kernels %s\n", cpu, gm_pool_size(p), gm_kernel_isa());
    double rd = bench_read_bw(p, mib << 20, 5), cp = bench_copy_bw(p, mib << 20, 5);
    if (rd < 0 || cp < 0) { fprintf(stderr, "membw: cannot allocate %zu MiB; try --mib 256\n", mib); return 1; }
    printf("read           %.1f GB/s (%zu MiB, best of 5)\n", rd, mib);
    printf("copy           %.1f GB/s (read + write)\n", cp);
    for (int isa = GM_ISA_AVX512; isa >= GM_ISA_AVX2; isa--)
        if (gm_isa_supported((gm_isa)isa))
            printf("fma %-10s %.1f GFLOP/s\n", gm_isa_name((gm_isa)isa), bench_fma_peak(p, (gm_isa)isa, 3));
    gm_pool_free(p);
    return 0;
}
