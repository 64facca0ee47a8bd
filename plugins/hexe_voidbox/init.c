/*
 * hexe-init: PID 1 of a hexe sandbox.
 *
 * usage: hexe-init LIFELINE_FD STATUS_FD GO_FD
 *
 * The sandbox's first process (a fork of its owner: the session server or
 * `hexe run`) sets the sandbox up - mounts, network, hostname, terminal,
 * no_new_privs, capabilities, seccomp - and then executes this program, so
 * that nothing of the owner's memory (the server holds every pane's screen)
 * is left in the sandbox before any of the sandbox's code runs. It is not
 * dumpable: the command cannot read its memory, environ or fds.
 *
 * GO_FD gives the command, read to end of file: for a sandbox prepared
 * ahead, the socket over which the owner sends it once a pane asks for it
 * (meanwhile it is called hexe-ahead);
 * else a file written just before. The format (hexe.spawn.encode_command):
 * NUL-terminated strings - "1" or "0" (the directory was given explicitly),
 * the directory, the argument count, the arguments, the environment count,
 * the "KEY=value" entries. Nothing read: the sandbox is discarded (exit 0).
 *
 * It then enters the directory (falling back to $HOME, then /, with a
 * warning, unless the directory was explicit), sets PWD to it (unless PWD
 * names it already), starts the command as PID 2
 * (searching $PATH of the command's own environment), and reports on
 * STATUS_FD as JSON lines that hexe.spawn reads: {"warning": ...},
 * {"spawned": PID} or {"error": {...}} (exit 127 not found, 126 not
 * executable, 125 setup); then closes it.
 *
 * Its jobs afterwards, as bwrap's and tini's inits:
 * - reap every orphan re-parented to it;
 * - forward the signals a process sent it (kill) to the command (signals the
 *   terminal generates already reach the command's process group);
 * - exit with the command's status (128+N for signal N) when the command
 *   ends: the kernel then ends everything else in the pid namespace;
 * - die with its owner: LIFELINE_FD is the read end of a pipe whose write end
 *   only the owner holds. End of file on it means the owner is gone, killed
 *   included: the sandbox ends.
 *
 * Built by hexe_voidbox.initbin: on x86-64 without the C library
 * (HEXE_NOLIBC: the dozen system calls it makes are defined below; an idle
 * init then holds a few pages of its own instead of ~70 KiB of a static C
 * library's data, relocations and heap), elsewhere static where the C
 * library allows; either way it also runs in a rootfs without one.
 */
#ifdef HEXE_NOLIBC
/* Without the C library (x86-64; initbin builds it so where it can): a
 * static C library's data, relocations and heap are most of an idle init's
 * private memory, paid once per pane. What the program uses of it is a dozen
 * system calls, defined here; everything else below is the same in both builds. */
#if !defined(__x86_64__)
#error "HEXE_NOLIBC: x86-64 only; build without it"
#endif
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/poll.h>
#include <linux/prctl.h>
#include <linux/signal.h>
#include <linux/signalfd.h>
#include <linux/stat.h>
#include <linux/wait.h>
#include <linux/mman.h>
#include <asm/stat.h>

typedef long ssize_t;
typedef unsigned long size_t;
typedef int pid_t;
typedef unsigned long hx_sigset;
#define sigset_t hx_sigset
#define NULL ((void *)0)
#define X_OK 1
#define MAP_FAILED ((void *)-1)
#define AT_FDCWD -100
#define WIFSIGNALED(s) (((s) & 0x7f) != 0 && ((s) & 0x7f) != 0x7f)
#define WTERMSIG(s) ((s) & 0x7f)
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define sigemptyset(set) (*(set) = 0)
#define sigaddset(set, sig) (*(set) |= 1UL << ((sig) - 1))

static int errno;

static long sc6(long n, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static long sc(long n, long a, long b, long c, long d, long e, long f) {
    long ret = sc6(n, a, b, c, d, e, f);
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

#define SC(n, a, b, c, d, e, f) sc((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static void _exit(int code) {
    for (;;)
        sc6(__NR_exit_group, code, 0, 0, 0, 0, 0);
}
static ssize_t read(int fd, void *buf, size_t n) { return SC(__NR_read, fd, buf, n, 0, 0, 0); }
static ssize_t write(int fd, const void *buf, size_t n) { return SC(__NR_write, fd, buf, n, 0, 0, 0); }
static int close(int fd) { return (int)SC(__NR_close, fd, 0, 0, 0, 0, 0); }
static int poll(struct pollfd *fds, unsigned long n, int timeout) {
    return (int)SC(__NR_poll, fds, n, timeout, 0, 0, 0);
}
static int prctl_long(int option, long a, long b, long c, long d) {
    return (int)SC(__NR_prctl, option, a, b, c, d, 0);
}
#define prctl(option, a, b, c, d) prctl_long(option, (long)(a), (long)(b), (long)(c), (long)(d))
static int fcntl(int fd, int cmd, long arg) { return (int)SC(__NR_fcntl, fd, cmd, arg, 0, 0, 0); }
static int chdir(const char *path) { return (int)SC(__NR_chdir, path, 0, 0, 0, 0, 0); }
static int access(const char *path, int mode) {
    return (int)SC(__NR_faccessat, AT_FDCWD, path, mode, 0, 0, 0);
}
static int pipe2(int fds[2], int flags) { return (int)SC(__NR_pipe2, fds, flags, 0, 0, 0, 0); }
static pid_t fork(void) { return (pid_t)SC(__NR_clone, SIGCHLD, 0, 0, 0, 0, 0); }
static int execve(const char *file, char *const argv[], char *const envp[]) {
    return (int)SC(__NR_execve, file, argv, envp, 0, 0, 0);
}
static pid_t waitpid(pid_t pid, int *status, int options) {
    return (pid_t)SC(__NR_wait4, pid, status, options, 0, 0, 0);
}
static int kill(pid_t pid, int sig) { return (int)SC(__NR_kill, pid, sig, 0, 0, 0, 0); }
static int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
    return (int)SC(__NR_rt_sigprocmask, how, set, old, sizeof(sigset_t), 0, 0);
}
static int signalfd(int fd, const sigset_t *set, int flags) {
    return (int)SC(__NR_signalfd4, fd, set, sizeof(sigset_t), flags, 0, 0);
}

/* The same system calls as the C library's stat and fstat (a seccomp policy
 * that allows those allows these). */
static int stat(const char *path, struct stat *st) {
    return (int)SC(__NR_newfstatat, AT_FDCWD, path, st, 0, 0, 0);
}
static int fstat(int fd, struct stat *st) { return (int)SC(__NR_fstat, fd, st, 0, 0, 0, 0); }

static void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off) {
    long ret = sc6(__NR_mmap, (long)addr, (long)len, prot, flags, fd, off);
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return MAP_FAILED;
    }
    return (void *)ret;
}
static int munmap(void *addr, size_t len) { return (int)SC(__NR_munmap, addr, len, 0, 0, 0, 0); }
static void *mremap(void *old, size_t old_len, size_t len, int flags) {
    long ret = sc6(__NR_mremap, (long)old, (long)old_len, (long)len, flags, 0, 0);
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return MAP_FAILED;
    }
    return (void *)ret;
}

/* gcc may call these for copies and initialisers even when freestanding */
void *memcpy(void *dst, const void *src, size_t n) {
    char *d = dst;
    const char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
void *memset(void *dst, int c, size_t n) {
    char *d = dst;
    while (n--)
        *d++ = (char)c;
    return dst;
}
static size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
static int strncmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}
static int strcmp(const char *a, const char *b) { return strncmp(a, b, (size_t)-1); }
static char *strchr(const char *s, int c) {
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}
static void *memchr(const void *p, int c, size_t n) {
    const unsigned char *s = p;
    for (; n; n--, s++)
        if (*s == (unsigned char)c)
            return (void *)s;
    return NULL;
}

int main(int argc, char **argv);

/* The kernel starts the program here: argc, then argv, on the stack. */
void hx_start(long *sp);
__attribute__((used)) void hx_start(long *sp) { _exit(main((int)sp[0], (char **)(sp + 1))); }
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    xor %rbp, %rbp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call hx_start\n"
        "    hlt\n");
#else
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define EXIT_SETUP_FAILED 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127
#define MESSAGE_LIMIT (64 << 20)
#define PATH_TEXT 4200 /* a path and some words about it */

static const int forwarded[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH,
};

static int status_fd = -1;

static int exit_code(int status) {
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* A decimal in 0..2^31-1, digits only; else -1. */
static int parse_int(const char *text) {
    long value = 0;
    if (!*text)
        return -1;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return -1;
        value = value * 10 + (*text - '0');
        if (value > 0x7fffffff)
            return -1;
    }
    return (int)value;
}

/* ---- text into fixed buffers (no printf: the same in both builds) -------- */

/* Append the first n bytes of text to buf (size bytes, NUL-terminated, at
 * holds its length), cutting what does not fit. Returns the new length. */
static size_t append(char *buf, size_t size, size_t at, const char *text, size_t n) {
    while (n-- && *text && at + 1 < size)
        buf[at++] = *text++;
    buf[at] = 0;
    return at;
}

static size_t append_str(char *buf, size_t size, size_t at, const char *text) {
    return append(buf, size, at, text, (size_t)-1);
}

/* value in decimal into num (at least 12 bytes) */
static char *format_int(char *num, int value) {
    char digits[12];
    int i = 0, at = 0;
    unsigned int v = value < 0 ? 0u - (unsigned int)value : (unsigned int)value;
    do
        digits[i++] = (char)('0' + v % 10);
    while ((v /= 10));
    if (value < 0)
        num[at++] = '-';
    while (i)
        num[at++] = digits[--i];
    num[at] = 0;
    return num;
}

/* ---- status messages (JSON lines) ---------------------------------------- */

static char out[16384];
static size_t out_len;

static void put(const char *text) {
    size_t n = strlen(text);
    if (out_len + n < sizeof out) {
        memcpy(out + out_len, text, n);
        out_len += n;
    }
}

/* A JSON string; bytes outside printable ASCII as \u00XX (read back as Latin-1). */
static void put_string(const char *text) {
    char buf[8];
    put("\"");
    for (; *text && out_len < sizeof out - 16; text++) {
        unsigned char c = (unsigned char)*text;
        if (c == '"' || c == '\\') {
            buf[0] = '\\';
            buf[1] = (char)c;
            buf[2] = 0;
        } else if (c < 0x20 || c >= 0x7f) {
            static const char hex[] = "0123456789abcdef";
            buf[0] = '\\';
            buf[1] = 'u';
            buf[2] = '0';
            buf[3] = '0';
            buf[4] = hex[c >> 4];
            buf[5] = hex[c & 15];
            buf[6] = 0;
        } else {
            buf[0] = (char)c;
            buf[1] = 0;
        }
        put(buf);
    }
    put("\"");
}

static void send_message(void) {
    size_t done = 0;
    put("\n");
    while (status_fd >= 0 && done < out_len) {
        ssize_t n = write(status_fd, out + done, out_len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    out_len = 0;
}

static void send_warning(const char *text) {
    put("{\"warning\": ");
    put_string(text);
    put("}");
    send_message();
}

static void fail(const char *step, int err, const char *hint, int code) {
    char num[32];
    put("{\"error\": {\"step\": ");
    put_string(step);
    put(", \"errno\": ");
    put(format_int(num, err));
    /* the errno's text is the owner's to add (hexe.errors.SetupError.from_dict):
     * the C library's table of them is what this program does without */
    put(", \"detail\": \"\"");
    put(", \"hint\": ");
    if (hint)
        put_string(hint);
    else
        put("null");
    put(", \"exit_code\": ");
    put(format_int(num, code));
    /* the command's own failure (126, 127) is not the isolation's */
    put(code == EXIT_SETUP_FAILED ? ", \"component\": \"voidbox isolation\"}}" : "}}");
    send_message();
    _exit(code);
}

/* ---- the command --------------------------------------------------------- */

struct command {
    int explicit_cwd;
    char *cwd;
    char **argv;
    char **envp;
};

static int watch_lifeline(int lifeline, int fd) {
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = lifeline, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (fds[0].revents)
            return 0;
        if (fds[1].revents)
            _exit(128 + SIGKILL); /* the owner is gone before the command came */
    }
}

/* Memory for starting the command (its message, lists, paths), each block a
 * mapping of its own (zeroed): given back whole once the command runs, so an
 * idle init keeps none of it. */
#define BLOCKS 12
static struct {
    void *at;
    size_t size;
} blocks[BLOCKS];

static void *allocate(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fail("read the command", ENOMEM, NULL, EXIT_SETUP_FAILED);
    for (int i = 0; i < BLOCKS; i++)
        if (!blocks[i].at) {
            blocks[i].at = p;
            blocks[i].size = size;
            break;
        }
    return p;
}

static void *grow(void *p, size_t size, size_t bigger) {
    void *q = mremap(p, size, bigger, MREMAP_MAYMOVE);
    if (q == MAP_FAILED)
        fail("read the command", ENOMEM, NULL, EXIT_SETUP_FAILED);
    for (int i = 0; i < BLOCKS; i++)
        if (blocks[i].at == p) {
            blocks[i].at = q;
            blocks[i].size = bigger;
        }
    return q;
}

static void release_all(void) {
    for (int i = 0; i < BLOCKS; i++)
        if (blocks[i].at) {
            munmap(blocks[i].at, blocks[i].size);
            blocks[i].at = NULL;
        }
}

/* Read GO_FD to its end. Returns the length (0: nothing came). */
static size_t read_all(int fd, int lifeline, char **data) {
    size_t len = 0, cap = 1 << 16;
    char *buf = allocate(cap);
    for (;;) {
        ssize_t n;
        if (watch_lifeline(lifeline, fd) < 0)
            fail("read the command", errno, NULL, EXIT_SETUP_FAILED);
        if (len + 1 >= cap) {
            if (cap >= MESSAGE_LIMIT)
                fail("read the command", E2BIG, NULL, EXIT_SETUP_FAILED);
            buf = grow(buf, cap, cap * 2);
            cap *= 2;
        }
        n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("read the command", errno, NULL, EXIT_SETUP_FAILED);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = 0;
    *data = buf;
    return len;
}

static char *next_field(char **at, char *end) {
    char *field = *at;
    char *nul;
    if (field >= end)
        fail("read the command", EINVAL, "a malformed command message", EXIT_SETUP_FAILED);
    nul = memchr(field, 0, (size_t)(end - field));
    if (!nul)
        fail("read the command", EINVAL, "a malformed command message", EXIT_SETUP_FAILED);
    *at = nul + 1;
    return field;
}

static char **read_list(char **at, char *end) {
    int count = parse_int(next_field(at, end));
    char **list;
    if (count < 0 || count > (1 << 20))
        fail("read the command", EINVAL, "a malformed command message", EXIT_SETUP_FAILED);
    list = allocate(((size_t)count + 1) * sizeof *list);
    for (int i = 0; i < count; i++)
        list[i] = next_field(at, end);
    return list;
}

static void parse_command(char *data, size_t len, struct command *cmd) {
    char *at = data, *end = data + len;
    cmd->explicit_cwd = strcmp(next_field(&at, end), "1") == 0;
    cmd->cwd = next_field(&at, end);
    cmd->argv = read_list(&at, end);
    cmd->envp = read_list(&at, end);
    if (!cmd->argv[0])
        fail("read the command", EINVAL, "no command to run", EXIT_SETUP_FAILED);
}

static const char *env_value(char **envp, const char *key) {
    size_t n = strlen(key);
    for (; *envp; envp++)
        if (strncmp(*envp, key, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* PWD names the directory the command starts in, as tmux sets it and the
 * shells read it (without it, dash and bash ask getcwd into a buffer of
 * their heap: a page of every idle shell): kept when it names that
 * directory already (a path through a symlink, as the caller's shell spelt
 * it), else the path entered; a relative one names nothing: PWD is taken
 * out (the command's shell asks getcwd). */
static void set_pwd(struct command *cmd, const char *dir) {
    const char *pwd = env_value(cmd->envp, "PWD");
    struct stat here, named;
    size_t n = 0, len = strlen(dir);
    char *entry, **list, **out;
    if (dir[0] != '/') {
        out = cmd->envp;
        for (char **e = cmd->envp; *e; e++)
            if (strncmp(*e, "PWD=", 4) != 0)
                *out++ = *e;
        *out = NULL;
        return;
    }
    if (pwd && pwd[0] == '/' && stat(".", &here) == 0 && stat(pwd, &named) == 0 &&
        here.st_dev == named.st_dev && here.st_ino == named.st_ino)
        return;
    entry = allocate(len + 5);
    memcpy(entry, "PWD=", 4);
    memcpy(entry + 4, dir, len + 1);
    for (char **e = cmd->envp; *e; e++, n++)
        if (strncmp(*e, "PWD=", 4) == 0) {
            *e = entry;
            return;
        }
    list = allocate((n + 2) * sizeof *list); /* zeroed: list[n + 1] ends it */
    memcpy(list, cmd->envp, n * sizeof *list);
    list[n] = entry;
    cmd->envp = list;
}

/* chdir by path, after setup: a directory from before the mounts would
 * still point into the host's /tmp. */
static void enter_directory(struct command *cmd) {
    char *step = allocate(PATH_TEXT);
    size_t size = PATH_TEXT;
    const char *fallback = "/";
    const char *home;
    struct stat st;
    int err;
    size_t at;
    if (chdir(cmd->cwd) == 0) {
        set_pwd(cmd, cmd->cwd);
        return;
    }
    err = errno;
    if (cmd->explicit_cwd) {
        append_str(step, size, append_str(step, size, 0, "chdir "), cmd->cwd);
        fail(step, err, NULL, EXIT_SETUP_FAILED);
    }
    home = env_value(cmd->envp, "HOME");
    if (home && stat(home, &st) == 0 && S_ISDIR(st.st_mode) && chdir(home) == 0)
        fallback = home;
    else if (chdir("/") != 0)
        fail("chdir /", errno, NULL, EXIT_SETUP_FAILED);
    set_pwd(cmd, fallback);
    at = append_str(step, size, 0, cmd->cwd);
    at = append_str(step, size, at, " does not exist inside the sandbox; starting in ");
    append_str(step, size, at, fallback);
    send_warning(step);
}

/* Resolve the command as hexe's Python side does: a name with a slash as it
 * is; else the first regular, executable file of that name on the command's
 * own PATH, or the first one found that is not executable (exec then fails
 * with EACCES), or ENOENT. Directories that cannot be searched are skipped,
 * so a PATH entry the sandbox cannot reach reads as "not found". */
static const char *resolve(struct command *cmd, char *buf, size_t size) {
    const char *path, *name = cmd->argv[0];
    const char *denied = NULL;
    char *denied_buf = NULL;
    if (strchr(name, '/'))
        return name;
    path = env_value(cmd->envp, "PATH");
    if (!path)
        path = "/bin:/usr/bin";
    while (path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        struct stat st;
        size_t at = len ? append(buf, size, 0, path, len) : append_str(buf, size, 0, ".");
        append_str(buf, size, append_str(buf, size, at, "/"), name);
        if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(buf, X_OK) == 0)
                return buf;
            if (!denied) {
                denied_buf = allocate(PATH_TEXT);
                append_str(denied_buf, PATH_TEXT, 0, buf);
                denied = denied_buf;
            }
        }
        path = end ? end + 1 : NULL;
    }
    if (denied)
        return denied;
    errno = ENOENT;
    return NULL;
}

/* Fork and execute the command (its own PATH); the child's errno on failure. */
static pid_t start_command(struct command *cmd) {
    int pipefd[2], err = 0;
    pid_t pid;
    ssize_t n;
    char *step = allocate(PATH_TEXT), *found = allocate(PATH_TEXT);
    const char *file = resolve(cmd, found, PATH_TEXT);
    append_str(step, PATH_TEXT, append_str(step, PATH_TEXT, 0, "exec "), cmd->argv[0]);
    if (!file)
        fail(step, ENOENT, "check the command name and PATH", EXIT_NOT_FOUND);
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        fail("start the command", errno, NULL, EXIT_SETUP_FAILED);
    pid = fork();
    if (pid < 0)
        fail("fork the command", errno, "is the pids limit too small?", EXIT_SETUP_FAILED);
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(file, cmd->argv, cmd->envp);
        err = errno;
        while (write(pipefd[1], &err, sizeof err) < 0 && errno == EINTR)
            ;
        _exit(EXIT_NOT_FOUND);
    }
    close(pipefd[1]);
    do
        n = read(pipefd[0], &err, sizeof err);
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof err) {
        waitpid(pid, NULL, 0);
        if (err == ENOENT)
            fail(step, err, "check the command name and PATH", EXIT_NOT_FOUND);
        fail(step, err, NULL, EXIT_NOT_EXECUTABLE);
    }
    return pid;
}

int main(int argc, char **argv) {
    int lifeline, go, sfd;
    pid_t command;
    unsigned i;
    sigset_t set;
    struct pollfd fds[2];
    struct command cmd;
    char *data = NULL;
    char num[32];
    size_t len;

    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_NAME, "hexe-init", 0, 0, 0);
    if (argc != 4)
        return EXIT_SETUP_FAILED;
    lifeline = parse_int(argv[1]);
    status_fd = parse_int(argv[2]);
    go = parse_int(argv[3]);
    if (lifeline < 0 || status_fd < 0 || go < 0)
        return EXIT_SETUP_FAILED;
    fcntl(lifeline, F_SETFD, FD_CLOEXEC);
    fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    fcntl(go, F_SETFD, FD_CLOEXEC);

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&set, forwarded[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        fail("block signals", errno, NULL, EXIT_SETUP_FAILED);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0)
        fail("signalfd", errno, NULL, EXIT_SETUP_FAILED);

    {
        struct stat st;
        /* a sandbox prepared ahead waits on a socket for its command: say so in ps */
        if (fstat(go, &st) == 0 && S_ISSOCK(st.st_mode)) {
            prctl(PR_SET_NAME, "hexe-ahead", 0, 0, 0);
            put("{\"ready\": true}");
            send_message();
        }
    }
    len = read_all(go, lifeline, &data);
    prctl(PR_SET_NAME, "hexe-init", 0, 0, 0);
    if (len == 0)
        _exit(0); /* discarded: nothing was run */
    close(go);
    parse_command(data, len, &cmd);
    enter_directory(&cmd);
    command = start_command(&cmd);
    put("{\"spawned\": ");
    put(format_int(num, (int)command));
    put("}");
    send_message();
    close(status_fd); /* end of file: the parent learns the command runs */
    status_fd = -1;
    release_all(); /* the command's message and lists: the kernel copied what exec needed */

    fds[0].fd = sfd;
    fds[0].events = POLLIN;
    fds[1].fd = lifeline;
    fds[1].events = POLLIN;
    for (;;) {
        for (;;) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0)
                break;
            if (pid == command)
                _exit(exit_code(status));
        }
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(EXIT_SETUP_FAILED);
        }
        if (fds[1].revents) {
            /* the owner is gone (or wrote, which it never does): end the sandbox */
            kill(-1, SIGKILL);
            _exit(128 + SIGKILL);
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo info;
            ssize_t n = read(sfd, &info, sizeof info);
            if (n != (ssize_t)sizeof info || info.ssi_signo == SIGCHLD)
                continue; /* children are reaped at the top of the loop */
            if (info.ssi_code != SI_KERNEL)
                kill(command, (int)info.ssi_signo);
        }
    }
}
