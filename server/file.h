/*
 * Reading a small file whole: the state file, the token file and the TLS
 * certificate and key. Manifests given with --load are read by main.c.
 */
#ifndef SRV_FILE_H
#define SRV_FILE_H

#include <stddef.h>

/* Reads the whole regular file at path into a new buffer with a NUL after
 * the last byte (not counted in *len). Returns 0 with *data owned by the
 * caller (free()), or -1 with errno set (ENOENT for a missing file, EISDIR
 * for a directory, EFBIG above max bytes). */
int srv_file_read(const char *path, size_t max, char **data, size_t *len);

/* Overwrites n bytes at p with zeros in a way the compiler keeps, then frees
 * p: for key material. NULL is ignored. */
void srv_file_wipe_free(char *p, size_t n);

#endif
