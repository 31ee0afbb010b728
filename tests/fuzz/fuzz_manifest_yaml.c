/*
 * Fuzzes YAML uploads: the bytes are a PUT /state body with Content-Type
 * application/yaml, parsed, decoded into a builder and built; errors are
 * located in the body; a built snapshot has its evaluation paths
 * cross-checked (common.c).
 */
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_manifest(data, size, API_FORMAT_YAML);
    return 0;
}
