/*
 * hexe-init: PID 1 of a hexe sandbox.
 *
 * usage: hexe-init LIFELINE_FD COMMAND_PID
 *
 * Started by exec (never a fork of the session server that goes on running
 * Python), so nothing of the server, its clients or other panes is in its
 * memory. It is not dumpable: processes in the sandbox cannot ptrace it or
 * read its /proc/1/mem, environ or fds.
 *
 * Its jobs, as bwrap's and tini's inits:
 * - reap every orphan re-parented to it;
 * - forward the signals a process sent it (kill) to the command, COMMAND_PID,
 *   its first child (signals the kernel generates for the terminal already
 *   reach the command's process group);
 * - exit with the command's status (128+N for signal N) when the command
 *   ends: the kernel then ends everything else in the pid namespace;
 * - die with its owner: LIFELINE_FD is the read end of a pipe whose write end
 *   only the owner (the session server or `hexe run`) holds. End of file on
 *   it means the owner is gone, killed included; the sandbox then ends.
 *
 * It uses only signalfd and poll, holds no buffers and allocates nothing.
 * Built by hexe_voidbox.initbin (a static binary, so it also runs in a
 * sandbox whose root file system has no C library).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_SETUP_FAILED 125

static const int forwarded[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH,
};

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

int main(int argc, char **argv) {
    int lifeline, command, sfd;
    unsigned i;
    sigset_t set;
    struct pollfd fds[2];

    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_NAME, "hexe-init", 0, 0, 0);
    if (argc != 3)
        return EXIT_SETUP_FAILED;
    lifeline = parse_int(argv[1]);
    command = parse_int(argv[2]);
    if (lifeline < 0 || command <= 0)
        return EXIT_SETUP_FAILED;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&set, forwarded[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return EXIT_SETUP_FAILED;
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0)
        return EXIT_SETUP_FAILED;

    fds[0].fd = sfd;
    fds[0].events = POLLIN;
    fds[1].fd = lifeline;
    fds[1].events = POLLIN;
    for (;;) {
        /* the command may have ended before the signal mask was set */
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
            if (n != (ssize_t)sizeof info)
                continue;
            if (info.ssi_signo == SIGCHLD)
                continue; /* reaped at the top of the loop */
            if (info.ssi_code != SI_KERNEL)
                kill(command, (int)info.ssi_signo);
        }
    }
}
