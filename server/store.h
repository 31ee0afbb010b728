/*
 * The state file (--state-file PATH): every change is saved before it is
 * answered, and the saved state is restored at the next start. Saving
 * writes PATH.tmp beside PATH, fsyncs it, renames it over PATH and fsyncs
 * the directory, so PATH always holds a complete state: the one before the
 * change or the one after, never a mix, whenever the process or the machine
 * stops. The bytes are api/statefile.c's format.
 *
 * One server per state file: two servers sharing one would overwrite each
 * other's changes.
 */
#ifndef SRV_STORE_H
#define SRV_STORE_H

#include "api/api.h"
#include "core/error.h"
#include "core/snapshot.h"

struct srv_store;

/* Prepares to keep the state in path: opens its directory and checks that a
 * file can be created there (creating and removing PATH.tmp). Returns the
 * store (owned: srv_store_close()), or NULL with err set to a message that
 * names the file or its directory (a missing directory, no permission). */
struct srv_store *srv_store_open(const char *path, struct np_error *err);

/* Restores the saved state into ctx, which must hold its initial empty
 * state. Returns 1 when a state was restored, 0 when there is no file yet (a
 * fresh start at revision 0), or -1 with err set to a message that names the
 * file and the problem (unreadable, truncated, damaged). */
int srv_store_load(struct srv_store *st, struct api_ctx *ctx,
                   struct np_error *err);

/* The persistence hook of struct api_ctx: saves snap (borrowed) durably into
 * the file of the store arg. Returns 0, or -1 with err set (NP_E_INTERNAL,
 * naming the file and the system's reason) after logging the failure;
 * the file then still holds the previous state. */
int srv_store_save(void *arg, const struct np_snapshot *snap,
                   struct np_error *err);

/* Closes the directory and frees st. NULL is ignored. */
void srv_store_close(struct srv_store *st);

#endif
