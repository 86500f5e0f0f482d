/* threadpool.c: a persistent pool of worker threads for the CPU backend.
 *
 * A decode step runs a few hundred small parallel regions, so waking threads
 * must cost microseconds: workers spin briefly on a generation counter, then
 * sleep on a condition variable.  The caller is thread 0 and takes part in
 * the work, so a pool of 1 has no threads at all.  Nothing is allocated per
 * region: each thread owns a fixed scratch buffer made here, which kernels
 * use instead of allocating. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernels.h"

#define SPIN_ITERS 20000

struct gm_pool {
    int              n;            /* threads including the caller */
    int              n_alloc;      /* scratch buffers allocated */
    pthread_t       *threads;
    pthread_mutex_t  mu;
    pthread_cond_t   cv;
    atomic_uint      gen;          /* bumped to start a region */
    atomic_int       pending;      /* workers still running the region */
    atomic_bool      quit;
    gm_pool_fn       fn;
    void            *arg;
    void           **scratch;      /* per thread, GM_POOL_SCRATCH bytes, 64-aligned */
};

typedef struct { gm_pool *p; int ith; } worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Worker loop: wait for a new generation, run the region, report done. */
static void *worker(void *a)
{
    worker_arg wa = *(worker_arg *)a;
    free(a);
    gm_pool *p = wa.p;
    unsigned seen = 0;            /* gen is 0 until the first region; a late start must not miss it */
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
               !atomic_load(&p->quit)) {
            if (++spins < SPIN_ITERS) { cpu_relax(); continue; }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = g;
        p->fn(p->arg, wa.ith, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

/* Count physical cores (siblings of SMT share a core id); falls back to
 * the online CPU count. */
int gm_physical_cores(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1) online = 1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return (int)online;
    char line[256];
    int phys = -1, ids[1024], n = 0;
    while (fgets(line, sizeof line, f)) {
        int v;
        if (sscanf(line, "physical id : %d", &v) == 1) phys = v;
        else if (sscanf(line, "core id : %d", &v) == 1 && n < 1024) {
            int key = phys * 4096 + v, dup = 0;
            for (int i = 0; i < n; i++) dup |= ids[i] == key;
            if (!dup) ids[n++] = key;
        }
    }
    fclose(f);
    if (n < 1 || n > online) return (int)online;
    return n;
}

gm_pool *gm_pool_new(int n_threads, gm_err *err)
{
    if (n_threads <= 0) n_threads = gm_physical_cores();
    if (n_threads > 512) n_threads = 512;
    gm_pool *p = calloc(1, sizeof *p);
    if (!p) { gm_err_set(err, GM_E_NOMEM, "thread pool: out of memory"); return NULL; }
    p->n = n_threads;
    p->n_alloc = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, false);
    if (n_threads > 1) {
        p->threads = calloc((size_t)n_threads, sizeof *p->threads);
        if (!p->threads) { free(p); gm_err_set(err, GM_E_NOMEM, "thread pool: out of memory"); return NULL; }
    }
    p->scratch = calloc((size_t)n_threads, sizeof *p->scratch);
    for (int i = 0; p->scratch && i < n_threads; i++) {
        p->scratch[i] = aligned_alloc(64, GM_POOL_SCRATCH);
        if (!p->scratch[i]) {
            for (int k = 0; k < i; k++) free(p->scratch[k]);
            free(p->scratch);
            p->scratch = NULL;
        }
    }
    if (!p->scratch) {
        free(p->threads); free(p);
        gm_err_set(err, GM_E_NOMEM, "thread pool: out of memory for %d x %d KiB of kernel scratch; try fewer --threads",
                   n_threads, GM_POOL_SCRATCH / 1024);
        return NULL;
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa) { wa->p = p; wa->ith = i; }
        int rc = wa ? pthread_create(&p->threads[i], NULL, worker, wa) : ENOMEM;
        if (rc != 0) {
            free(wa);
            p->n = i;              /* join what started */
            gm_pool_free(p);
            gm_err_set(err, GM_E_NOMEM, "thread pool: cannot start thread %d of %d: %s; try --threads %d",
                       i, n_threads, strerror(rc), i);
            return NULL;
        }
    }
    return p;
}

void gm_pool_free(gm_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, true);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    for (int i = 0; p->scratch && i < p->n_alloc; i++) free(p->scratch[i]);
    free(p->scratch);
    free(p->threads);
    free(p);
}

int gm_pool_size(const gm_pool *p) { return p ? p->n : 1; }

void *gm_pool_scratch(gm_pool *p, int ith)
{
    return p && ith >= 0 && ith < p->n ? p->scratch[ith] : NULL;
}

void gm_pool_run(gm_pool *p, gm_pool_fn fn, void *arg)
{
    if (!p || p->n == 1) { fn(arg, 0, 1); return; }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->pending, p->n - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) cpu_relax();
}
