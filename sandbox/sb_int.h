/* sb_int.h: what the sandbox's own files share (not part of the public API). */
#ifndef GEMMASH_SB_INT_H
#define GEMMASH_SB_INT_H
#include <stdint.h>
#include <sys/types.h>
#include "sandbox.h"

/* Landlock user-space ABI, written out here because the system headers may
 * predate ABI 4 (network), 5 (ioctl on devices) and 6 (scopes). */
#define SB_LL_FS_EXECUTE      (1ULL << 0)
#define SB_LL_FS_WRITE_FILE   (1ULL << 1)
#define SB_LL_FS_READ_FILE    (1ULL << 2)
#define SB_LL_FS_READ_DIR     (1ULL << 3)
#define SB_LL_FS_REMOVE_DIR   (1ULL << 4)
#define SB_LL_FS_REMOVE_FILE  (1ULL << 5)
#define SB_LL_FS_MAKE_CHAR    (1ULL << 6)
#define SB_LL_FS_MAKE_DIR     (1ULL << 7)
#define SB_LL_FS_MAKE_REG     (1ULL << 8)
#define SB_LL_FS_MAKE_SOCK    (1ULL << 9)
#define SB_LL_FS_MAKE_FIFO    (1ULL << 10)
#define SB_LL_FS_MAKE_BLOCK   (1ULL << 11)
#define SB_LL_FS_MAKE_SYM     (1ULL << 12)
#define SB_LL_FS_REFER        (1ULL << 13)   /* ABI 2 */
#define SB_LL_FS_TRUNCATE     (1ULL << 14)   /* ABI 3 */
#define SB_LL_FS_IOCTL_DEV    (1ULL << 15)   /* ABI 5 */
#define SB_LL_NET_BIND_TCP    (1ULL << 0)    /* ABI 4 */
#define SB_LL_NET_CONNECT_TCP (1ULL << 1)    /* ABI 4 */
#define SB_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define SB_LL_SCOPE_SIGNAL        (1ULL << 1) /* ABI 6 */
#define SB_LL_RULE_PATH_BENEATH 1
#define SB_LL_CREATE_VERSION    (1U << 0)

/* Rights that make sense on a file (not a directory). */
#define SB_LL_FILE_RIGHTS (SB_LL_FS_EXECUTE | SB_LL_FS_WRITE_FILE | SB_LL_FS_READ_FILE | \
                           SB_LL_FS_TRUNCATE | SB_LL_FS_IOCTL_DEV)

/* A run's prepared fence: everything the child needs, built in the parent so
 * that the child, after fork, only makes raw system calls. */
typedef struct sb_fence {
    int    ruleset_fd;       /* Landlock ruleset, -1 when not fenced */
    void  *bpf;              /* struct sock_filter[], NULL when not fenced */
    unsigned short bpf_len;
    int    cap_last;         /* highest capability number, for dropping them all */
    int    abi;              /* Landlock ABI in use (0 when not fenced) */
    bool   userns;           /* extra layer: user+mount(+net) namespaces (userns.c) */
    char **protect;          /* existing protected paths to bind read-only in that layer */
    uint64_t shm_rights;     /* Landlock rights for the layer's private /dev/shm */
    unsigned uid, gid;
} sb_fence;

/* policy.c */
int  sb_path_within(const char *path, const char *root);     /* path == root or below it */
int  sb_is_write_root(const sb_policy *p, const char *path, const char **root);
int  sb_is_denied(const sb_policy *p, const char *path, const char **what);
bool sb_unsafe_write_root(const sb_policy *p, const char *root, char *err, size_t errlen);
const char *sb_protected_match(const char *rel);             /* protected entry or NULL */
extern const char *const sb_system_read_roots[];
extern const char *const sb_home_read_roots[];
extern const char *const sb_devices_rw[];
void sb_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* env.c */
bool  sb_env_is_secret(const char *name);
char **sb_env_build(const sb_policy *p, const char *tmpdir);  /* malloc'd, NULL on ENOMEM */
void  sb_env_free(char **env);

/* landlock.c */
int  sb_landlock_abi(void);                                  /* 0 when unavailable */
int  sb_landlock_build(const sb_policy *p, const char *tmpdir, int abi, int *fd_out,
                       char *err, size_t errlen);
int  sb_landlock_restrict(int ruleset_fd);                   /* child side; -1 + errno */
uint64_t sb_landlock_write_rights(int abi);
int  sb_landlock_add_dir(int ruleset_fd, const char *path, uint64_t rights);   /* child side */
void sb_landlock_describe(FILE *out, const sb_policy *p, int abi);

/* seccomp.c */
int  sb_seccomp_build(const sb_policy *p, int abi, void **bpf, unsigned short *len, char *err, size_t errlen);
int  sb_seccomp_load(const void *bpf, unsigned short len);   /* child side; -1 + errno */
void sb_seccomp_describe(FILE *out, const sb_policy *p);

/* guard.c: snapshot protected paths before a run, restore them after. */
typedef struct sb_guard sb_guard;
sb_guard *sb_guard_take(const sb_policy *p, char *err, size_t errlen);
int  sb_guard_restore(sb_guard *g, char *msg, size_t msglen);   /* paths restored, -1 = could not */
void sb_guard_free(sb_guard *g);
int  sb_remove_at(int dirfd, const char *name);                /* rm -r without following symlinks */

/* userns.c: the optional namespace layer. */
bool  sb_userns_usable(bool net);
char **sb_userns_protected(const sb_policy *p);
int   sb_userns_enter(unsigned uid, unsigned gid, bool net, char *const *protect, const char **stage); /* 1 in, 0 skipped, -1 */

/* hint.c */
void sb_hint(const sb_policy *p, sb_result *r);

#endif
