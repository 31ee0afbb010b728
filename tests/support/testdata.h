/*
 * Reading whole files for tests: manifests and expectations under
 * tests/data/, the walkthrough's files, the conformance sample. A file that
 * cannot be read fails the test that asked for it, with the path named, so
 * callers need no error path of their own.
 */
#ifndef TESTS_SUPPORT_TESTDATA_H
#define TESTS_SUPPORT_TESTDATA_H

#include <stddef.h>

/* Returns the contents of path (owned: the caller frees it; NUL-terminated,
 * "" for an empty file) and stores its length in *len unless len is NULL.
 * Fails the test when the file cannot be opened or read. */
char *tdata_read(const char *path, size_t *len);

/* tdata_read() of tests/data/manifests/name. */
char *tdata_manifest(const char *name, size_t *len);

#endif
