/*
 * The Prometheus registry of one api_ctx: what GET /metrics reports. Every
 * counter is a C11 atomic updated with relaxed ordering, so counting costs a
 * request two or three uncontended additions and never a lock. Series are
 * preallocated from bounded sets (route patterns of the route table, a
 * fixed list of methods and status codes), so a client cannot grow the
 * registry by inventing paths or methods.
 *
 * What is counted where: api_dispatch() counts every request it answers
 * (route pattern, method, status, duration) and uploads; reach.c and
 * matrix.c count verdicts and batch sizes (api/internal.h declares those
 * calls). Object counts and the revision are read from the current
 * snapshot at scrape time. Answers made by server/http.c alone (a 401, a
 * body over --max-body) never reach api_dispatch(); the server counts them
 * with api_count_answer().
 */
#ifndef API_METRICS_H
#define API_METRICS_H

#include <stddef.h>

struct api_metrics;

/* Returns a registry sized for nroutes routes of the route table, every
 * counter at zero and the process start time set to now; NULL when out of
 * memory. Owned: free it with api_metrics_free(). */
struct api_metrics *api_metrics_new(size_t nroutes);

/* Frees m; NULL is ignored. */
void api_metrics_free(struct api_metrics *m);

#endif
