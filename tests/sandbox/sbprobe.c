/* sbprobe.c: the escape attempts of tests/sandbox/test_escape.sh, one per
 * subcommand.  Each tries exactly one thing against a target the test made
 * itself, prints "OK ..." and exits 0 when it worked, or prints "BLOCKED ..."
 * and exits 1 when the system refused it.  Compiled by the test with cc. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Report a refusal (with errno) and exit 1. */
static int blocked(const char *what)
{
    printf("BLOCKED %s: %s\n", what, strerror(errno));
    return 1;
}

/* Report success and exit 0. */
static int ok(const char *what)
{
    printf("OK %s\n", what);
    return 0;
}

/* Write a small file (create or truncate). */
static int do_write(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0) return blocked("open for write");
    if (write(fd, "#!/bin/sh\necho pwned\n", 21) != 21) return blocked("write");
    close(fd);
    return ok("wrote");
}

/* Append a line to an existing file. */
static int do_append(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd < 0) return blocked("open for append");
    if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) return blocked("write");
    close(fd);
    return ok("appended");
}

/* Read a file. */
static int do_read(const char *path)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return blocked("open for read");
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) return blocked("read");
    return ok("read");
}

/* TCP connect to 127.0.0.1:port. */
static int do_tcp(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return blocked("socket(AF_INET)");
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) return blocked("connect");
    return ok("connected");
}

/* Send one UDP datagram to 127.0.0.1:port. */
static int do_udp(int port)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) return blocked("socket(AF_INET, SOCK_DGRAM)");
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a) != 1) return blocked("sendto");
    return ok("sent");
}

/* Connect to a pathname unix socket. */
static int do_unix(const char *path)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) return blocked("socket(AF_UNIX)");
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) return blocked("connect");
    return ok("connected");
}

/* Attach to another process with ptrace, then let it go. */
static int do_ptrace(pid_t pid)
{
    if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) return blocked("ptrace attach");
    waitpid(pid, NULL, __WALL);
    ptrace(PTRACE_DETACH, pid, 0, 0);
    return ok("attached");
}

/* Set up an io_uring instance. */
static int do_io_uring(void)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long fd = syscall(__NR_io_uring_setup, 4, &p);
    if (fd < 0) return blocked("io_uring_setup");
    return ok("io_uring ready");
}

/* Mount a tmpfs on a folder the test made, then unmount it. */
static int do_mount(const char *dir)
{
    if (mount("none", dir, "tmpfs", 0, "size=1m") != 0) return blocked("mount");
    umount2(dir, 0);
    return ok("mounted");
}

/* Make a new user namespace. */
static int do_unshare(void)
{
    if (unshare(CLONE_NEWUSER) != 0) return blocked("unshare(CLONE_NEWUSER)");
    return ok("unshared");
}

/* Push a character into the input queue of a terminal. */
static int do_tiocsti(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) return blocked("posix_openpt");
    if (grantpt(m) != 0 || unlockpt(m) != 0) return blocked("grantpt");
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    if (s < 0) return blocked("open pts");
    char c = 'x';
    if (ioctl(s, TIOCSTI, &c) != 0) return blocked("ioctl(TIOCSTI)");
    return ok("injected");
}

/* Fork up to n idle children; OK if all n could be made. */
static int do_forkbomb(int n)
{
    pid_t *kids = calloc((size_t)n, sizeof *kids);
    int made = 0;
    while (kids && made < n) {
        pid_t k = fork();
        if (k < 0) break;
        if (k == 0) { pause(); _exit(0); }
        kids[made++] = k;
    }
    int e = errno;
    for (int i = 0; i < made; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < made; i++) waitpid(kids[i], NULL, 0);
    printf("made %d of %d processes\n", made, n);
    errno = e;
    return made == n ? ok("all forked") : blocked("fork");
}

/* Allocate and touch mb MiB. */
static int do_memhog(int mb)
{
    size_t n = (size_t)mb << 20;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return blocked("mmap");
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    return ok("allocated");
}

/* Spin until secs of CPU time were used. */
static int do_cpuloop(double secs)
{
    struct timespec ts;
    volatile unsigned long x = 0;
    do {
        for (int i = 0; i < 1000000; i++) x += (unsigned long)i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    } while ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 < secs);
    return ok("spun");
}

/* Write mb MiB to a file. */
static int do_diskfill(const char *path, int mb)
{
    static char buf[1 << 20];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return blocked("open");
    for (int i = 0; i < mb; i++)
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) return blocked("write");
    close(fd);
    return ok("filled");
}

/* Print every open descriptor above stdio (the listing's own fd excluded). */
static int do_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return blocked("opendir /proc/self/fd");
    int self = dirfd(d), extra = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] == '.' || fd <= 2 || fd == self) continue;
        printf("open fd %d\n", fd);
        extra++;
    }
    closedir(d);
    return extra ? ok("descriptors leaked") : blocked("no extra descriptors");
}

int main(int argc, char **argv)
{
    if (argc < 2) { fputs("usage: sbprobe ATTEMPT [ARGS]\n", stderr); return 2; }
    const char *c = argv[1], *a = argc > 2 ? argv[2] : "", *b = argc > 3 ? argv[3] : "";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(c, "write")) return do_write(a);
    if (!strcmp(c, "append")) return do_append(a, b);
    if (!strcmp(c, "read")) return do_read(a);
    if (!strcmp(c, "link")) return link(a, b) == 0 ? ok("linked") : blocked("link");
    if (!strcmp(c, "rename")) return rename(a, b) == 0 ? ok("renamed") : blocked("rename");
    if (!strcmp(c, "tcp")) return do_tcp(atoi(a));
    if (!strcmp(c, "udp")) return do_udp(atoi(a));
    if (!strcmp(c, "unix")) return do_unix(a);
    if (!strcmp(c, "ptrace")) return do_ptrace(atoi(a));
    if (!strcmp(c, "signal")) return kill(atoi(a), SIGCONT) == 0 ? ok("signalled") : blocked("kill");
    if (!strcmp(c, "io_uring")) return do_io_uring();
    if (!strcmp(c, "mount")) return do_mount(a);
    if (!strcmp(c, "unshare")) return do_unshare();
    if (!strcmp(c, "tiocsti")) return do_tiocsti();
    if (!strcmp(c, "forkbomb")) return do_forkbomb(atoi(a));
    if (!strcmp(c, "memhog")) return do_memhog(atoi(a));
    if (!strcmp(c, "cpuloop")) return do_cpuloop(atof(a));
    if (!strcmp(c, "diskfill")) return do_diskfill(a, atoi(b));
    if (!strcmp(c, "fds")) return do_fds();
    fprintf(stderr, "sbprobe: unknown attempt '%s'\n", c);
    return 2;
}
