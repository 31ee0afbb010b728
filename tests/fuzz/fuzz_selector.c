/*
 * Fuzzes kubectl's label selector syntax ("app=web,tier!=db,env in (a,b),
 * !legacy"), as GET /pods?labelSelector= and the matrix take it: the bytes
 * up to the first NUL are parsed with np_selector_parse() against the fixed
 * cluster's strings (common.c), then matched against every pod's and
 * namespace's labels and an empty set.
 *
 * Invariants: a failed parse is NP_E_INVALID_SELECTOR with a message;
 * np_selector_matches() agrees with np_selector_first_mismatch(); an empty
 * selector matches everything; and the selector's canonical text parses
 * again into a selector with the same text and the same verdicts.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/labels.h"
#include "core/selector.h"
#include "core/snapshot.h"

static void
check_sets(const struct np_snapshot *snap, const struct np_selector *sel,
           const struct np_selector *again)
{
    static const struct np_labels none = { .n = 0, .items = NULL };
    uint32_t n = snap->npods + snap->nnamespaces + 1;
    uint32_t i;

    for (i = 0; i < n; i++) {
        const struct np_labels *ls;
        bool m;
        int first;

        if (i < snap->npods)
            ls = &snap->pods[i].labels;
        else if (i < snap->npods + snap->nnamespaces)
            ls = &snap->namespaces[i - snap->npods].labels;
        else
            ls = &none;
        m = np_selector_matches(sel, ls);
        first = np_selector_first_mismatch(sel, ls);
        if (m != (first < 0))
            fuzz_fail("\"%s\": matches %d but first mismatch %d", sel->text, m,
                      first);
        if (first >= (int)sel->nreqs)
            fuzz_fail("\"%s\": first mismatch %d of %u requirements", sel->text,
                      first, sel->nreqs);
        if (np_selector_is_empty(sel) && !m)
            fuzz_fail("the empty selector does not match label set %u", i);
        if (np_selector_matches(again, ls) != m)
            fuzz_fail("\"%s\" and its reparsed text disagree on label set %u",
                      sel->text, i);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_ctx *ctx = fuzz_fixed_ctx();
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    struct np_selector sel, again;
    struct np_error err;
    struct np_arena a;
    char *text;

    text = malloc(size + 1);
    if (text == NULL)
        goto out;
    memcpy(text, data, size);
    text[size] = '\0';
    np_arena_init(&a);
    np_error_init(&err);
    if (np_selector_parse(text, snap->syms, &a, &sel, &err) != 0) {
        if (err.code != NP_E_INVALID_SELECTOR || err.message[0] == '\0')
            fuzz_fail("a failed parse gave code %s, message \"%s\"",
                      np_errc_name(err.code), err.message);
        goto done;
    }
    if (sel.text == NULL)
        fuzz_fail("a parsed selector has no text");
    if (np_selector_is_empty(&sel) != (sel.nreqs == 0))
        fuzz_fail("\"%s\": is_empty disagrees with %u requirements", sel.text,
                  sel.nreqs);
    if (np_selector_parse(sel.text, snap->syms, &a, &again, &err) != 0)
        fuzz_fail("the canonical text \"%s\" of \"%s\" does not parse: %s",
                  sel.text, text, err.message);
    if (strcmp(again.text, sel.text) != 0)
        fuzz_fail("\"%s\" reparses as \"%s\"", sel.text, again.text);
    check_sets(snap, &sel, &again);
done:
    np_arena_free_all(&a);
    free(text);
out:
    np_snapshot_release(snap);
    return 0;
}
