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
 * warning, unless the directory was explicit), starts the command as PID 2
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
 * Built by hexe_voidbox.initbin, static where the C library allows, so it
 * also runs in a rootfs without one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_SETUP_FAILED 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127
#define MESSAGE_LIMIT (64 << 20)

static const int forwarded[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH,
};

static int status_fd = -1;

static int exit_code(int status) {
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static int parse_int(const char *text) {
    char *end = NULL;
    long value;
    errno = 0;
    value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < 0 || value > 0x7fffffff)
        return -1;
    return (int)value;
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
            snprintf(buf, sizeof buf, "\\u%04x", c);
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
    snprintf(num, sizeof num, "%d", err);
    put(", \"errno\": ");
    put(num);
    put(", \"detail\": ");
    put_string(err ? strerror(err) : "");
    put(", \"hint\": ");
    if (hint)
        put_string(hint);
    else
        put("null");
    snprintf(num, sizeof num, "%d", code);
    put(", \"exit_code\": ");
    put(num);
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

/* Read GO_FD to its end. Returns the length (0: nothing came). */
static size_t read_all(int fd, int lifeline, char **data) {
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    if (!buf)
        fail("read the command", ENOMEM, NULL, EXIT_SETUP_FAILED);
    for (;;) {
        ssize_t n;
        if (watch_lifeline(lifeline, fd) < 0)
            fail("read the command", errno, NULL, EXIT_SETUP_FAILED);
        if (len + 1 >= cap) {
            if (cap >= MESSAGE_LIMIT)
                fail("read the command", E2BIG, NULL, EXIT_SETUP_FAILED);
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                fail("read the command", ENOMEM, NULL, EXIT_SETUP_FAILED);
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
    list = calloc((size_t)count + 1, sizeof *list);
    if (!list)
        fail("read the command", ENOMEM, NULL, EXIT_SETUP_FAILED);
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

/* chdir by path, after setup: a directory from before the mounts would
 * still point into the host's /tmp. */
static void enter_directory(struct command *cmd) {
    char step[4200];
    const char *fallback = "/";
    const char *home;
    struct stat st;
    int err;
    if (chdir(cmd->cwd) == 0)
        return;
    err = errno;
    if (cmd->explicit_cwd) {
        snprintf(step, sizeof step, "chdir %s", cmd->cwd);
        fail(step, err, NULL, EXIT_SETUP_FAILED);
    }
    home = env_value(cmd->envp, "HOME");
    if (home && stat(home, &st) == 0 && S_ISDIR(st.st_mode) && chdir(home) == 0)
        fallback = home;
    else if (chdir("/") != 0)
        fail("chdir /", errno, NULL, EXIT_SETUP_FAILED);
    snprintf(step, sizeof step, "%s does not exist inside the sandbox; starting in %s", cmd->cwd,
             fallback);
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
    static char denied_buf[4200];
    if (strchr(name, '/'))
        return name;
    path = env_value(cmd->envp, "PATH");
    if (!path)
        path = "/bin:/usr/bin";
    while (path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        struct stat st;
        snprintf(buf, size, "%.*s/%s", (int)len, len ? path : ".", name);
        if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(buf, X_OK) == 0)
                return buf;
            if (!denied) {
                snprintf(denied_buf, sizeof denied_buf, "%s", buf);
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
    char step[4200], found[4200];
    const char *file = resolve(cmd, found, sizeof found);
    snprintf(step, sizeof step, "exec %s", cmd->argv[0]);
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
    snprintf(num, sizeof num, "%d", (int)command);
    put("{\"spawned\": ");
    put(num);
    put("}");
    send_message();
    close(status_fd); /* end of file: the parent learns the command runs */
    status_fd = -1;

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
