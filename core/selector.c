/*
 * Label selectors (metav1.LabelSelector): validation as the API server's
 * ValidateLabelSelector does it, compilation to interned requirements,
 * kubectl's string syntax for queries, and matching.
 *
 * matchLabels {k: v} is the requirement "k In (v)"; every requirement must
 * hold (AND); a selector without requirements matches every label set.
 */
#include "core/selector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[NP_SEL__MAX] = {
    [NP_SEL_IN] = "In",
    [NP_SEL_NOT_IN] = "NotIn",
    [NP_SEL_EXISTS] = "Exists",
    [NP_SEL_DOES_NOT_EXIST] = "DoesNotExist",
};

static int
op_parse(const char *s, enum np_sel_op *out)
{
    int i;

    for (i = 0; i < NP_SEL__MAX; i++) {
        if (strcmp(s, op_names[i]) == 0) {
            *out = (enum np_sel_op)i;
            return 0;
        }
    }
    return -1;
}

int
np_selector_validate(const struct np_model_selector *sel, const char *path,
                     struct np_error *err)
{
    const char *why;
    size_t i, j;

    for (i = 0; i < sel->nlabels; i++) {
        const struct np_model_label *l = &sel->labels[i];

        if (!np_label_key_is_valid(l->key, &why)) {
            np_error_set(err, NP_E_INVALID_SELECTOR,
                         "matchLabels key \"%.80s\" is not a valid label key: "
                         "%s",
                         l->key, why);
            return np_error_path(err, "%s.matchLabels", path);
        }
        if (!np_label_value_is_valid(l->value, &why)) {
            np_error_set(err, NP_E_INVALID_SELECTOR,
                         "matchLabels value \"%.80s\" of key \"%.60s\" is not "
                         "valid: %s",
                         l->value, l->key, why);
            return np_error_path(err, "%s.matchLabels.%s", path, l->key);
        }
    }
    for (i = 0; i < sel->nexprs; i++) {
        const struct np_model_expr *e = &sel->exprs[i];
        enum np_sel_op op;

        if (e->key == NULL || !np_label_key_is_valid(e->key, &why)) {
            np_error_set(err, NP_E_INVALID_SELECTOR,
                         "matchExpressions key \"%.80s\" is not a valid label "
                         "key: %s",
                         e->key == NULL ? "" : e->key,
                         e->key == NULL ? "it is missing" : why);
            return np_error_path(err, "%s.matchExpressions[%zu].key", path, i);
        }
        if (e->op == NULL || op_parse(e->op, &op) != 0) {
            np_error_set(err, NP_E_INVALID_SELECTOR,
                         "operator \"%.40s\" is not a valid selector operator: "
                         "use In, NotIn, Exists or DoesNotExist",
                         e->op == NULL ? "" : e->op);
            return np_error_path(err, "%s.matchExpressions[%zu].operator", path,
                                 i);
        }
        if ((op == NP_SEL_IN || op == NP_SEL_NOT_IN) && e->nvalues == 0) {
            np_error_set(err, NP_E_INVALID_SELECTOR,
                         "operator %s needs at least one value", op_names[op]);
            return np_error_path(err, "%s.matchExpressions[%zu].values", path,
                                 i);
        }
        if ((op == NP_SEL_EXISTS || op == NP_SEL_DOES_NOT_EXIST) &&
            e->nvalues != 0) {
            np_error_set(err, NP_E_INVALID_SELECTOR,
                         "operator %s takes no values; remove them",
                         op_names[op]);
            return np_error_path(err, "%s.matchExpressions[%zu].values", path,
                                 i);
        }
        for (j = 0; j < e->nvalues; j++) {
            if (!np_label_value_is_valid(e->values[j], &why)) {
                np_error_set(err, NP_E_INVALID_SELECTOR,
                             "value \"%.80s\" is not a valid label value: %s",
                             e->values[j], why);
                return np_error_path(
                    err, "%s.matchExpressions[%zu].values[%zu]", path, i, j);
            }
        }
    }
    return 0;
}

static int
sym_cmp(const void *a, const void *b)
{
    np_sym x = *(const np_sym *)a, y = *(const np_sym *)b;

    return x < y ? -1 : x > y;
}

/* Builds a requirement's text: "k=v", "k!=v", "k in (a,b)", "k", "!k". */
static const char *
req_text(struct np_arena *a, const char *key, enum np_sel_op op,
         const char *const *values, size_t nvalues)
{
    size_t len = strlen(key) + 16, i, off;
    char *buf;

    for (i = 0; i < nvalues; i++)
        len += strlen(values[i]) + 1;
    buf = np_arena_alloc(a, len);
    if (buf == NULL)
        return NULL;
    switch (op) {
    case NP_SEL_EXISTS:
        memcpy(buf, key, strlen(key) + 1);
        return buf;
    case NP_SEL_DOES_NOT_EXIST:
        buf[0] = '!';
        memcpy(buf + 1, key, strlen(key) + 1);
        return buf;
    case NP_SEL_IN:
    case NP_SEL_NOT_IN:
    case NP_SEL__MAX:
        break;
    }
    if (nvalues == 1) {
        snprintf(buf, len, "%s%s%s", key,
                 op == NP_SEL_IN ? "=" : "!=", values[0]);
        return buf;
    }
    off = (size_t)snprintf(buf, len, "%s %s (", key,
                           op == NP_SEL_IN ? "in" : "notin");
    for (i = 0; i < nvalues; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
                                values[i]);
    snprintf(buf + off, len - off, ")");
    return buf;
}

static const char *
join_texts(struct np_arena *a, const struct np_sel_req *reqs, uint32_t n)
{
    size_t len = 1, off = 0;
    uint32_t i;
    char *buf;

    for (i = 0; i < n; i++)
        len += strlen(reqs[i].text) + 1;
    buf = np_arena_alloc(a, len);
    if (buf == NULL)
        return NULL;
    for (i = 0; i < n; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
                                reqs[i].text);
    return buf;
}

/* Fills r from key, op and values. With add set the strings are interned
 * into t; otherwise unknown strings are looked up only, and values no label
 * can carry are dropped (an In left with no value matches nothing). */
static int
req_make(struct np_intern *t, const struct np_intern *ro, struct np_arena *a,
         const char *key, enum np_sel_op op, const char *const *values,
         size_t nvalues, struct np_sel_req *r)
{
    np_sym *syms = NULL;
    size_t i, n = 0;

    r->key = t != NULL ? np_intern_add(t, key) : np_intern_find(ro, key);
    if (t != NULL && r->key == NP_SYM_NONE)
        return -1;
    r->op = op;
    if (nvalues > 0) {
        syms = np_arena_calloc(a, nvalues, sizeof(*syms));
        if (syms == NULL)
            return -1;
    }
    for (i = 0; i < nvalues; i++) {
        np_sym s = t != NULL ? np_intern_add(t, values[i])
                             : np_intern_find(ro, values[i]);

        if (s == NP_SYM_NONE) {
            if (t != NULL)
                return -1;
            continue;
        }
        syms[n++] = s;
    }
    if (n > 1)
        qsort(syms, n, sizeof(*syms), sym_cmp);
    r->values = syms;
    r->nvalues = (uint32_t)n;
    r->text = req_text(a, key, op, values, nvalues);
    if (r->text == NULL)
        return -1;
    r->text_len = (uint32_t)strlen(r->text);
    return 0;
}

int
np_selector_compile(const struct np_model_selector *sel, struct np_intern *t,
                    struct np_arena *a, struct np_selector *out,
                    struct np_error *err)
{
    struct np_sel_req *reqs;
    size_t n = sel->nlabels + sel->nexprs, i;

    memset(out, 0, sizeof(*out));
    out->text = "";
    if (n == 0)
        return 0;
    reqs = np_arena_calloc(a, n, sizeof(*reqs));
    if (reqs == NULL)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    for (i = 0; i < sel->nlabels; i++) {
        const char *v = sel->labels[i].value;

        if (req_make(t, NULL, a, sel->labels[i].key, NP_SEL_IN, &v, 1,
                     &reqs[i]) != 0)
            return np_error_set(err, NP_E_NOMEM, "out of memory");
    }
    for (i = 0; i < sel->nexprs; i++) {
        const struct np_model_expr *e = &sel->exprs[i];
        enum np_sel_op op = NP_SEL_IN;

        if (op_parse(e->op, &op) != 0)
            return np_error_set(err, NP_E_INVALID_SELECTOR,
                                "operator \"%.40s\" is not valid", e->op);
        if (req_make(t, NULL, a, e->key, op, e->values, e->nvalues,
                     &reqs[sel->nlabels + i]) != 0)
            return np_error_set(err, NP_E_NOMEM, "out of memory");
    }
    out->reqs = reqs;
    out->nreqs = (uint32_t)n;
    out->text = join_texts(a, reqs, (uint32_t)n);
    if (out->text == NULL)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    out->text_len = (uint32_t)strlen(out->text);
    return 0;
}

/* --- kubectl syntax --- */

struct sel_lexer {
    const char *s;
    size_t pos;
};

static void
skip_space(struct sel_lexer *lx)
{
    while (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t')
        lx->pos++;
}

static bool
is_word_char(char c)
{
    return c != '\0' && c != ' ' && c != '\t' && c != ',' && c != '(' &&
           c != ')' && c != '=' && c != '!' && c != '<' && c != '>';
}

/* Reads a word into buf (len bytes). Returns its length, 0 if none. */
static size_t
read_word(struct sel_lexer *lx, char *buf, size_t len)
{
    size_t n = 0;

    skip_space(lx);
    while (is_word_char(lx->s[lx->pos])) {
        if (n + 1 < len)
            buf[n] = lx->s[lx->pos];
        n++;
        lx->pos++;
    }
    buf[n < len ? n : len - 1] = '\0';
    return n;
}

#define SEL_MAX_VALUES 64
#define SEL_MAX_WORD   320

int
np_selector_parse(const char *s, const struct np_intern *t, struct np_arena *a,
                  struct np_selector *out, struct np_error *err)
{
    struct sel_lexer lx = { .s = s, .pos = 0 };
    struct np_sel_req *reqs = NULL;
    size_t nreqs = 0, capreqs = 0;
    char key[SEL_MAX_WORD];
    char vals[SEL_MAX_VALUES][SEL_MAX_WORD];
    const char *vptr[SEL_MAX_VALUES];
    const char *why;

    memset(out, 0, sizeof(*out));
    out->text = "";
    skip_space(&lx);
    if (s[lx.pos] == '\0')
        return 0;
    for (;;) {
        enum np_sel_op op;
        size_t nv = 0, klen, i;
        bool bang = false;

        skip_space(&lx);
        if (s[lx.pos] == '!') {
            bang = true;
            lx.pos++;
        }
        klen = read_word(&lx, key, sizeof(key));
        if (klen == 0 || klen >= sizeof(key))
            return np_error_set(err, NP_E_INVALID_SELECTOR,
                                "label selector \"%.100s\": expected a label "
                                "key at character %zu",
                                s, lx.pos + 1);
        if (!np_label_key_is_valid(key, &why))
            return np_error_set(err, NP_E_INVALID_SELECTOR,
                                "label selector \"%.100s\": \"%.60s\" is not "
                                "a valid label key: %s",
                                s, key, why);
        skip_space(&lx);
        if (bang) {
            op = NP_SEL_DOES_NOT_EXIST;
        } else if (s[lx.pos] == '=' ||
                   (s[lx.pos] == '!' && s[lx.pos + 1] == '=')) {
            op = s[lx.pos] == '=' ? NP_SEL_IN : NP_SEL_NOT_IN;
            lx.pos += op == NP_SEL_IN ? 1 : 2;
            if (op == NP_SEL_IN && s[lx.pos] == '=')
                lx.pos++;
            read_word(&lx, vals[0], sizeof(vals[0]));
            nv = 1;
        } else if (s[lx.pos] == '<' || s[lx.pos] == '>') {
            return np_error_set(err, NP_E_INVALID_SELECTOR,
                                "label selector \"%.100s\": the operators < "
                                "and > are not part of label selectors",
                                s);
        } else if (strncmp(s + lx.pos, "in", 2) == 0 ||
                   strncmp(s + lx.pos, "notin", 5) == 0) {
            op = s[lx.pos] == 'i' ? NP_SEL_IN : NP_SEL_NOT_IN;
            lx.pos += op == NP_SEL_IN ? 2 : 5;
            skip_space(&lx);
            if (s[lx.pos] != '(')
                return np_error_set(err, NP_E_INVALID_SELECTOR,
                                    "label selector \"%.100s\": expected '(' "
                                    "at character %zu",
                                    s, lx.pos + 1);
            lx.pos++;
            for (;;) {
                if (nv == SEL_MAX_VALUES)
                    return np_error_set(err, NP_E_INVALID_SELECTOR,
                                        "label selector \"%.100s\": more than "
                                        "%d values in one set",
                                        s, SEL_MAX_VALUES);
                read_word(&lx, vals[nv], sizeof(vals[nv]));
                nv++;
                skip_space(&lx);
                if (s[lx.pos] == ',') {
                    lx.pos++;
                    continue;
                }
                if (s[lx.pos] == ')') {
                    lx.pos++;
                    break;
                }
                return np_error_set(err, NP_E_INVALID_SELECTOR,
                                    "label selector \"%.100s\": expected ',' "
                                    "or ')' at character %zu",
                                    s, lx.pos + 1);
            }
        } else {
            op = NP_SEL_EXISTS;
        }
        for (i = 0; i < nv; i++) {
            if (!np_label_value_is_valid(vals[i], &why))
                return np_error_set(err, NP_E_INVALID_SELECTOR,
                                    "label selector \"%.100s\": \"%.60s\" is "
                                    "not a valid label value: %s",
                                    s, vals[i], why);
            vptr[i] = vals[i];
        }
        if (nreqs == capreqs) {
            struct np_sel_req *nr;

            capreqs = capreqs == 0 ? 4 : capreqs * 2;
            nr = np_arena_calloc(a, capreqs, sizeof(*nr));
            if (nr == NULL)
                return np_error_set(err, NP_E_NOMEM, "out of memory");
            if (nreqs > 0)
                memcpy(nr, reqs, nreqs * sizeof(*nr));
            reqs = nr;
        }
        if (req_make(NULL, t, a, key, op, vptr, nv, &reqs[nreqs]) != 0)
            return np_error_set(err, NP_E_NOMEM, "out of memory");
        nreqs++;
        skip_space(&lx);
        if (s[lx.pos] == '\0')
            break;
        if (s[lx.pos] != ',')
            return np_error_set(err, NP_E_INVALID_SELECTOR,
                                "label selector \"%.100s\": unexpected '%c' at "
                                "character %zu",
                                s, s[lx.pos], lx.pos + 1);
        lx.pos++;
    }
    out->reqs = reqs;
    out->nreqs = (uint32_t)nreqs;
    out->text = join_texts(a, reqs, (uint32_t)nreqs);
    if (out->text == NULL)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    out->text_len = (uint32_t)strlen(out->text);
    return 0;
}

static bool
has_value(const struct np_sel_req *r, np_sym v)
{
    uint32_t lo = 0, hi = r->nvalues;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (r->values[mid] == v)
            return true;
        if (r->values[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool
req_matches(const struct np_sel_req *r, const struct np_labels *ls)
{
    np_sym v = np_labels_get(ls, r->key);

    switch (r->op) {
    case NP_SEL_IN:
        return v != NP_SYM_NONE && has_value(r, v);
    case NP_SEL_NOT_IN:
        /* NotIn holds for label sets without the key. */
        return v == NP_SYM_NONE || !has_value(r, v);
    case NP_SEL_EXISTS:
        return v != NP_SYM_NONE;
    case NP_SEL_DOES_NOT_EXIST:
        return v == NP_SYM_NONE;
    case NP_SEL__MAX:
        break;
    }
    return false;
}

int
np_selector_first_mismatch(const struct np_selector *sel,
                           const struct np_labels *ls)
{
    uint32_t i;

    for (i = 0; i < sel->nreqs; i++) {
        if (!req_matches(&sel->reqs[i], ls))
            return (int)i;
    }
    return -1;
}

bool
np_selector_matches(const struct np_selector *sel, const struct np_labels *ls)
{
    return np_selector_first_mismatch(sel, ls) < 0;
}

bool
np_selector_is_empty(const struct np_selector *sel)
{
    return sel->nreqs == 0;
}
