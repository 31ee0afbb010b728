/*
 * Starting the real netpolq binary from a test (Redis's start_server, in C).
 * tsrv_start() runs NETPOLQ_BIN on 127.0.0.1 and a free port, reads its
 * stderr through a pipe until the readiness line ("listening on") arrives,
 * and keeps draining stderr afterwards so the server never blocks on a full
 * pipe. tsrv_stop() sends SIGTERM and returns the exit status. Waiting is
 * always poll() or a timed condition wait with a deadline, never sleep().
 *
 * NETPOLQ_TEST_WRAPPER (e.g. "valgrind --error-exitcode=99
 * --leak-check=full") is put in front of the command, split on spaces; the
 * timeouts then grow tenfold. NETPOLQ_TEST_VERBOSE=1 copies the server's
 * stderr to the test's stderr as it arrives; otherwise it is printed only
 * when starting fails or the exit status is not 0.
 */
#ifndef TESTS_SUPPORT_SERVER_H
#define TESTS_SUPPORT_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tsrv {
    pid_t pid;     /* 0 when not running */
    unsigned port; /* the port in base */
    char base[96]; /* "http://127.0.0.1:PORT", no trailing slash */
    int status;    /* exit status once stopped, -1 before */
    int err_fd;    /* read end of the server's stderr */
    pthread_t drainer;
    bool drainer_running;
    pthread_mutex_t lock; /* guards log, ready and eof */
    pthread_cond_t changed;
    char *log; /* owned: what the server wrote to stderr (first 1 MiB) */
    size_t log_len;
    size_t log_cap;
    bool ready; /* the readiness line has arrived */
    bool eof;   /* stderr was closed: the server is exiting */
};

/* The output of a run to completion (tsrv_run()). */
struct tsrv_output {
    int status; /* exit status; 128 + N when killed by signal N; -1 on
                   timeout */
    char *out;  /* owned, NUL-terminated stdout */
    char *err;  /* owned, NUL-terminated stderr */
};

/* Starts netpolq with "--listen 127.0.0.1:PORT" for a free PORT followed by
 * args (NULL-terminated; NULL for none). A later --listen in args wins; the
 * base URL is read from the readiness line either way. Returns 0 once the
 * server accepts connections, or -1 (the server's stderr printed, the
 * process reaped) when it exits or stays silent past the timeout. */
int tsrv_start(struct tsrv *s, const char *const *args);

/* Sends SIGTERM, waits for the exit and frees what s holds. Returns the exit
 * status (0 to 255), 128 + N after signal N, or -1 when the server had to be
 * killed after the timeout. Calling it again returns the same status. */
int tsrv_stop(struct tsrv *s);

/* The same with another signal (SIGINT). */
int tsrv_stop_signal(struct tsrv *s, int sig);

/* Sends sig to the server without waiting. */
void tsrv_signal(struct tsrv *s, int sig);

/* Returns true when the server's stderr so far contains needle. */
bool tsrv_log_contains(struct tsrv *s, const char *needle);

/* Waits up to tsrv_timeout_ms() for needle to appear on the server's
 * stderr. Returns true once it has, false on timeout or exit. */
bool tsrv_wait_log(struct tsrv *s, const char *needle);

/* Runs netpolq with args (NULL-terminated) to completion, stdin from
 * /dev/null, capturing stdout and stderr. Returns 0 and fills out (release
 * it with tsrv_output_fini()), or -1 if the process could not be started. */
int tsrv_run(const char *const *args, struct tsrv_output *out);

void tsrv_output_fini(struct tsrv_output *out);

/* Returns a port on 127.0.0.1 that was free a moment ago, or 0. */
unsigned tsrv_free_port(void);

/* Milliseconds the helpers wait for start-up or exit: 10 s, or 100 s under
 * NETPOLQ_TEST_WRAPPER. */
int tsrv_timeout_ms(void);

#endif
