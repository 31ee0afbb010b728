/*
 * Request bodies to json_t documents, and field paths back to positions in
 * the body.
 *
 * YAML goes through libyaml's event parser into jansson values on an explicit
 * stack, so deep nesting never recurses here. Plain scalars are typed as
 * go-yaml v2 (kubectl's decoder) types them, except that only true and false
 * (in three cases) are booleans, as in YAML 1.2. JSON goes to jansson after a
 * linear scan that enforces the depth and string limits before jansson
 * recurses; a large JSON List has the second half of its items parsed on a
 * second thread, and a large YAML stream its second half. api_locate() re-reads
 * a body with the same event parser (JSON is YAML flow syntax) to turn a field
 * path into a line and a column.
 *
 * Left out on purpose, each a small difference from kubectl:
 * - Timestamps stay the text they were written as (go-yaml turns 2001-12-14
 *   into a time, which sigs.k8s.io/yaml prints back as RFC 3339 text).
 * - Mapping keys stay the text they were written as (sigs.k8s.io/yaml turns
 *   the key yes into "true" and 0x10 into "16").
 * - .inf, -.inf and .nan are rejected with NP_E_SYNTAX: JSON cannot hold
 *   them, and kubectl's conversion to JSON fails on them too. Quoting them
 *   makes them strings.
 * - JSON integers beyond int64 are jansson syntax errors ("too big integer").
 * - Merge keys (<<) follow the YAML merge-key spec: keys written in the
 *   mapping win over merged ones wherever they appear, and among several
 *   merged mappings the first wins. go-yaml v2 lets a merge override the
 *   explicit keys written before it.
 *
 * A JSON body is one value of any type, like a YAML document; null, like an
 * empty YAML document, holds no document. Whether a document must be an
 * object is manifest.c's to say, with a path.
 *
 * Aliased nodes are shared with json_incref(), not copied, so a document may
 * hold the same json_t in several places: its users must treat it as
 * read-only.
 */
#include "api/internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "core/error.h"

/* Aliases may always add ALIAS_NODES_FLOOR nodes to a stream; beyond that at
 * most ALIAS_NODES_RATIO times the nodes written in the body, and never more
 * than ALIAS_NODES_MAX. Shared nodes cost no memory here, but every consumer
 * walks the expanded tree ("billion laughs"). */
#define ALIAS_NODES_FLOOR 100000
#define ALIAS_NODES_RATIO 10
#define ALIAS_NODES_MAX   10000000

/* The nesting limit of jansson's recursive parser (JSON_PARSER_MAX_DEPTH in
 * its load.c); it applies when lim->max_depth is 0 or larger. */
#define JANSSON_MAX_DEPTH 2048

#define MERGE_TAG "tag:yaml.org,2002:merge"

static const struct api_limits no_limits;

/* --- output --- */

/* Appends doc (stolen) to out. Returns 0, or -1 when out of memory. */
static int
docs_append(struct api_docs *out, size_t *cap, json_t *doc, int index, int line)
{
    if (out->n == *cap) {
        size_t ncap = *cap == 0 ? 8 : *cap * 2;
        json_t **docs;
        int *indexes;
        int *lines;

        /* Each array keeps its contents if a later realloc() fails; *cap
         * grows only once all three have. */
        docs = realloc(out->docs, ncap * sizeof(*docs));
        if (docs == NULL)
            goto nomem;
        out->docs = docs;
        indexes = realloc(out->index, ncap * sizeof(*indexes));
        if (indexes == NULL)
            goto nomem;
        out->index = indexes;
        lines = realloc(out->line, ncap * sizeof(*lines));
        if (lines == NULL)
            goto nomem;
        out->line = lines;
        *cap = ncap;
    }
    out->docs[out->n] = doc;
    out->index[out->n] = index;
    out->line[out->n] = line;
    out->n++;
    return 0;
nomem:
    json_decref(doc);
    return -1;
}

void
api_docs_fini(struct api_docs *docs)
{
    size_t i;

    if (docs == NULL)
        return;
    /* Walking every tree of a large upload only to reach frees that do
     * nothing costs as much as decoding it. */
    for (i = 0; !docs->in_arena && i < docs->n; i++)
        json_decref(docs->docs[i]);
    free(docs->docs);
    free(docs->index);
    free(docs->line);
    memset(docs, 0, sizeof(*docs));
}

/* --- YAML scalars, typed as go-yaml v2's resolve() --- */

enum scalar_kind {
    SCALAR_NULL,
    SCALAR_BOOL,
    SCALAR_INT,
    SCALAR_FLOAT,
    SCALAR_STR,
};

/* The tags netpolq honours; any other tag counts as no tag. */
enum scalar_tag {
    TAG_NONE,
    TAG_STR,
    TAG_NULL,
    TAG_BOOL,
    TAG_INT,
    TAG_FLOAT,
};

struct resolved {
    enum scalar_kind kind;
    bool truth;
    bool big; /* an integer above INT64_MAX, kept in real */
    json_int_t integer;
    double real;
};

/* The words that are not strings. Booleans are YAML 1.2's (go-yaml v3):
 * only true and false. go-yaml v2 also reads y, n, yes, no, on and off as
 * booleans, but sigs.k8s.io/yaml keeps them as written wherever the field is
 * a string, and manifests name namespaces "y" and "n" unquoted. */
#define WORD_MAX 5
static const struct word {
    const char *text;
    enum scalar_kind kind;
    bool truth;
    double real;
} words[] = {
    { .text = "~", .kind = SCALAR_NULL },
    { .text = "null", .kind = SCALAR_NULL },
    { .text = "Null", .kind = SCALAR_NULL },
    { .text = "NULL", .kind = SCALAR_NULL },
    { .text = "true", .kind = SCALAR_BOOL, .truth = true },
    { .text = "True", .kind = SCALAR_BOOL, .truth = true },
    { .text = "TRUE", .kind = SCALAR_BOOL, .truth = true },
    { .text = "false", .kind = SCALAR_BOOL, .truth = false },
    { .text = "False", .kind = SCALAR_BOOL, .truth = false },
    { .text = "FALSE", .kind = SCALAR_BOOL, .truth = false },
    { .text = ".nan", .kind = SCALAR_FLOAT, .real = NAN },
    { .text = ".NaN", .kind = SCALAR_FLOAT, .real = NAN },
    { .text = ".NAN", .kind = SCALAR_FLOAT, .real = NAN },
    { .text = ".inf", .kind = SCALAR_FLOAT, .real = INFINITY },
    { .text = ".Inf", .kind = SCALAR_FLOAT, .real = INFINITY },
    { .text = ".INF", .kind = SCALAR_FLOAT, .real = INFINITY },
    { .text = "+.inf", .kind = SCALAR_FLOAT, .real = INFINITY },
    { .text = "+.Inf", .kind = SCALAR_FLOAT, .real = INFINITY },
    { .text = "+.INF", .kind = SCALAR_FLOAT, .real = INFINITY },
    { .text = "-.inf", .kind = SCALAR_FLOAT, .real = -INFINITY },
    { .text = "-.Inf", .kind = SCALAR_FLOAT, .real = -INFINITY },
    { .text = "-.INF", .kind = SCALAR_FLOAT, .real = -INFINITY },
};

static int
digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* Go's strconv.ParseInt(s, 0, 64), falling back to ParseUint(s, 0, 64) as
 * go-yaml does: an optional sign, then 0x, 0o, 0b or a leading 0 (octal)
 * picks the base. Returns false when neither accepts s. */
static bool
go_parse_int(const char *s, size_t n, struct resolved *r)
{
    size_t i = 0;
    bool neg = false;
    bool sign = false;
    unsigned base = 10;
    uint64_t u = 0;

    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        sign = true;
        i++;
    }
    if (i + 1 < n && s[i] == '0') {
        char c = s[i + 1];

        if (c == 'x' || c == 'X') {
            base = 16;
            i += 2;
        } else if (c == 'o' || c == 'O') {
            base = 8;
            i += 2;
        } else if (c == 'b' || c == 'B') {
            base = 2;
            i += 2;
        } else {
            base = 8;
            i += 1;
        }
    }
    if (i == n)
        return false;
    for (; i < n; i++) {
        unsigned d = (unsigned)digit_value(s[i]);

        if (d >= base || u > (UINT64_MAX - d) / base)
            return false;
        u = u * base + d;
    }
    r->kind = SCALAR_INT;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return false;
        r->integer = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else if (u <= (uint64_t)INT64_MAX) {
        r->integer = (json_int_t)u;
    } else if (!sign) {
        /* ParseUint takes no sign. JSON numbers beyond int64 are reals in
         * jansson. */
        r->big = true;
        r->real = (double)u;
    } else {
        return false;
    }
    return true;
}

/* go-yaml's yamlStyleFloat:
 * ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool
is_yaml_float(const char *s, size_t n)
{
    size_t i = 0;
    size_t start;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i < n && s[i] == '.') {
        i++;
        start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    } else {
        start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && s[i] >= '0' && s[i] <= '9')
                i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

/* Reads s (NUL-terminated, is_yaml_float() syntax) as a finite double; Go's
 * ParseFloat fails on overflow, and go-yaml then keeps the string. */
static bool
parse_finite(const char *s, double *out)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(s, &end);
    if (*end != '\0' || (errno == ERANGE && isinf(d)))
        return false;
    *out = d;
    return true;
}

/* Types the plain scalar s as go-yaml v2's resolve() does. Returns 0, or -1
 * when out of memory. */
static int
resolve_plain(const char *s, size_t n, struct resolved *r)
{
    char small[64];
    char *buf = small;
    size_t i;
    size_t m = 0;
    char c;

    memset(r, 0, sizeof(*r));
    r->kind = SCALAR_STR;
    if (n == 0) {
        r->kind = SCALAR_NULL;
        return 0;
    }
    c = s[0];
    /* The words are at most WORD_MAX bytes and start with these. */
    if (n <= WORD_MAX && c != '\0' && strchr("yYnNtTfFoO~.+-", c) != NULL) {
        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
            if (strlen(words[i].text) == n &&
                memcmp(words[i].text, s, n) == 0) {
                r->kind = words[i].kind;
                r->truth = words[i].truth;
                r->real = words[i].real;
                return 0;
            }
        }
    }
    if (c != '.' && c != '+' && c != '-' && (c < '0' || c > '9'))
        return 0;
    if (n >= sizeof(small)) {
        buf = malloc(n + 1);
        if (buf == NULL)
            return -1;
    }
    if (c == '.') {
        /* Go's ParseFloat on the text as written: no underscores. */
        memcpy(buf, s, n);
        m = n;
    } else {
        /* go-yaml drops every underscore before reading a number. */
        for (i = 0; i < n; i++)
            if (s[i] != '_')
                buf[m++] = s[i];
    }
    buf[m] = '\0';
    if (c != '.' && go_parse_int(buf, m, r)) {
        /* r is filled. */
    } else if (is_yaml_float(buf, m) && parse_finite(buf, &r->real)) {
        r->kind = SCALAR_FLOAT;
    } else {
        memset(r, 0, sizeof(*r));
        r->kind = SCALAR_STR;
    }
    if (buf != small)
        free(buf);
    return 0;
}

static enum scalar_tag
scalar_tag(const yaml_char_t *tag)
{
    const char *t = (const char *)tag;

    if (t == NULL)
        return TAG_NONE;
    /* The non-specific tag "!" marks a scalar that is not to be resolved. */
    if (strcmp(t, "!") == 0 || strcmp(t, YAML_STR_TAG) == 0)
        return TAG_STR;
    if (strcmp(t, YAML_NULL_TAG) == 0)
        return TAG_NULL;
    if (strcmp(t, YAML_BOOL_TAG) == 0)
        return TAG_BOOL;
    if (strcmp(t, YAML_INT_TAG) == 0)
        return TAG_INT;
    if (strcmp(t, YAML_FLOAT_TAG) == 0)
        return TAG_FLOAT;
    return TAG_NONE;
}

static const char *
tag_name(enum scalar_tag tag)
{
    switch (tag) {
    case TAG_NULL:
        return "!!null";
    case TAG_BOOL:
        return "!!bool";
    case TAG_INT:
        return "!!int";
    case TAG_FLOAT:
        return "!!float";
    default:
        return "!!str";
    }
}

/* --- YAML documents --- */

/* One mapping or sequence being built. */
struct frame {
    json_t *node;       /* owned: the object or array */
    char *anchor;       /* owned: the anchor to define when it ends, or NULL */
    size_t start_nodes; /* nodes of the stream, aliases expanded, before it */
    size_t height;      /* levels of nesting, itself included */
    yaml_mark_t mark;
    /* Mappings: the key awaiting its value. */
    bool has_key;
    bool key_is_merge;
    yaml_event_t key_ev; /* owned: the key's scalar event, or zeroed */
    json_t *key_str;     /* owned: the key when an alias gave it, or NULL */
    const char *key;     /* borrowed from key_ev or key_str */
    size_t keylen;
    json_t *merged; /* owned: keys merged in with "<<", or NULL */
};

struct anchor {
    json_t *node;  /* owned */
    size_t nodes;  /* nodes an alias to it expands to */
    size_t height; /* levels of nesting in it, 0 for a scalar */
};

struct build {
    const struct api_limits *lim;
    struct np_error *err;
    bool err_preset; /* err was set before the call: leave it alone */
    struct api_docs *out;
    size_t out_cap;
    struct frame *stack;
    size_t depth;
    size_t stack_cap;
    json_t *root;      /* owned: the finished root of the document */
    json_t *anchor_ix; /* owned: anchor name -> index into anchors */
    struct anchor *anchors;
    size_t nanchors;
    size_t anchors_cap;
    size_t own_nodes;   /* nodes written in the body */
    size_t alias_nodes; /* nodes added by expanding aliases */
    int doc;            /* stream index of the current document */
    bool in_doc;
    yaml_mark_t doc_mark;
};

/* Gives err the position line and column (1-based) in the current document.
 * Returns -1. */
static int
at_line(struct build *b, int line, int column)
{
    if (b->err == NULL || b->err_preset)
        return -1;
    /* Between documents, an error belongs to the next one. */
    b->err->document = b->in_doc ? b->doc : b->doc + 1;
    b->err->line = line;
    b->err->column = column;
    return -1;
}

static int
at_mark(struct build *b, const yaml_mark_t *mark)
{
    return at_line(b, (int)mark->line + 1, (int)mark->column + 1);
}

static int
nomem(struct build *b)
{
    return np_error_set(b->err, NP_E_NOMEM, "out of memory reading the body");
}

static size_t
total_nodes(const struct build *b)
{
    return b->own_nodes + b->alias_nodes;
}

static struct frame *
top(struct build *b)
{
    return b->depth == 0 ? NULL : &b->stack[b->depth - 1];
}

/* True when the next node is a mapping key. */
static bool
key_expected(struct build *b)
{
    struct frame *f = top(b);

    return f != NULL && json_is_object(f->node) && !f->has_key;
}

static void
key_clear(struct frame *f)
{
    yaml_event_delete(&f->key_ev);
    json_decref(f->key_str);
    f->key_str = NULL;
    f->key = NULL;
    f->keylen = 0;
    f->has_key = false;
    f->key_is_merge = false;
}

static void
frame_clear(struct frame *f)
{
    key_clear(f);
    json_decref(f->node);
    json_decref(f->merged);
    free(f->anchor);
    memset(f, 0, sizeof(*f));
}

static void
anchors_reset(struct build *b)
{
    size_t i;

    for (i = 0; i < b->nanchors; i++)
        json_decref(b->anchors[i].node);
    b->nanchors = 0;
    json_object_clear(b->anchor_ix);
}

/* Defines (or redefines: the latest wins) the anchor name for node
 * (borrowed). Returns 0 or -1. */
static int
anchor_define(struct build *b, const char *name, json_t *node, size_t nodes,
              size_t height)
{
    json_t *ix = json_object_get(b->anchor_ix, name);
    struct anchor *a;

    if (ix != NULL) {
        a = &b->anchors[json_integer_value(ix)];
        json_decref(a->node);
    } else {
        if (b->nanchors == b->anchors_cap) {
            size_t ncap = b->anchors_cap == 0 ? 8 : b->anchors_cap * 2;
            struct anchor *na = realloc(b->anchors, ncap * sizeof(*na));

            if (na == NULL)
                return nomem(b);
            b->anchors = na;
            b->anchors_cap = ncap;
        }
        if (json_object_set_new_nocheck(
                b->anchor_ix, name, json_integer((json_int_t)b->nanchors)) != 0)
            return nomem(b);
        a = &b->anchors[b->nanchors++];
    }
    a->node = json_incref(node);
    a->nodes = nodes;
    a->height = height;
    return 0;
}

static bool
anchor_is_open(struct build *b, const char *name)
{
    size_t i;

    for (i = 0; i < b->depth; i++) {
        if (b->stack[i].anchor != NULL && strcmp(b->stack[i].anchor, name) == 0)
            return true;
    }
    return false;
}

/* go-yaml merges a mapping or a sequence of mappings. */
static bool
is_merge_source(const json_t *v)
{
    const json_t *elem;
    size_t i;

    if (json_is_object(v))
        return true;
    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, elem)
    {
        if (!json_is_object(elem))
            return false;
    }
    return true;
}

/* Adds the keys of v, the value of a merge key, to f->merged. Earlier sources
 * win over later ones, as the merge-key spec orders them. Steals v. Returns 0
 * or -1. */
static int
merge_value(struct build *b, struct frame *f, json_t *v,
            const yaml_mark_t *mark)
{
    json_t *elem;
    size_t i;
    int rc = 0;

    if (!is_merge_source(v)) {
        np_error_set(b->err, NP_E_SYNTAX,
                     "the value of a merge key (<<) must be a mapping or a "
                     "list of mappings");
        rc = at_mark(b, mark);
        goto out;
    }
    if (f->merged == NULL)
        f->merged = json_object();
    if (f->merged == NULL) {
        rc = nomem(b);
        goto out;
    }
    if (json_is_object(v)) {
        rc = json_object_update_missing(f->merged, v);
    } else {
        json_array_foreach(v, i, elem)
        {
            if (rc == 0)
                rc = json_object_update_missing(f->merged, elem);
        }
    }
    if (rc != 0)
        rc = nomem(b);
out:
    json_decref(v);
    return rc;
}

/* Hands the finished node v (stolen), with height levels of nesting, to its
 * parent, or makes it the document's root. Returns 0 or -1. */
static int
deliver(struct build *b, json_t *v, size_t height, const yaml_mark_t *mark)
{
    struct frame *f = top(b);
    int rc;

    if (f == NULL) {
        json_decref(b->root);
        b->root = v;
        return 0;
    }
    if (height + 1 > f->height)
        f->height = height + 1;
    if (json_is_array(f->node)) {
        if (json_array_append_new(f->node, v) != 0)
            return nomem(b);
        return 0;
    }
    if (f->key_is_merge) {
        rc = merge_value(b, f, v, mark);
    } else {
        rc = json_object_setn_new_nocheck(f->node, f->key, f->keylen, v);
        if (rc != 0)
            nomem(b);
    }
    key_clear(f);
    return rc;
}

static int
check_aliases(struct build *b, const yaml_mark_t *mark)
{
    if (b->alias_nodes <= ALIAS_NODES_FLOOR)
        return 0;
    if (b->alias_nodes <= ALIAS_NODES_MAX &&
        b->alias_nodes / ALIAS_NODES_RATIO <= b->own_nodes)
        return 0;
    np_error_set(b->err, NP_E_LIMIT_EXCEEDED,
                 "aliases expand to %zu nodes for %zu nodes written in the "
                 "body, beyond the alias expansion limit (%d times the nodes "
                 "written, at most %d)",
                 b->alias_nodes, b->own_nodes, ALIAS_NODES_RATIO,
                 ALIAS_NODES_MAX);
    return at_mark(b, mark);
}

static int
check_depth(struct build *b, size_t depth, const yaml_mark_t *mark)
{
    if (b->lim->max_depth == 0 || depth <= b->lim->max_depth)
        return 0;
    np_error_set(b->err, NP_E_LIMIT_EXCEEDED,
                 "nesting of %zu levels exceeds the limit of %zu levels "
                 "(max_depth)",
                 depth, b->lim->max_depth);
    return at_mark(b, mark);
}

/* Sets f's pending key, checking it is new: Kubernetes' strict decoding
 * rejects a mapping that sets a key twice. Returns 0 or -1. */
static int
key_check(struct build *b, struct frame *f, const char *key, size_t keylen,
          const yaml_mark_t *mark)
{
    if (json_object_getn(f->node, key, keylen) == NULL)
        return 0;
    np_error_set(b->err, NP_E_SYNTAX,
                 "key \"%.*s\" is already set in this mapping (line %d)",
                 keylen > 64 ? 64 : (int)keylen, key, (int)mark->line + 1);
    return at_mark(b, mark);
}

/* Converts a value scalar. Returns 0 with *out (owned), or -1. */
static int
scalar_decode(struct build *b, const yaml_event_t *ev, json_t **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    enum scalar_tag tag = scalar_tag(ev->data.scalar.tag);
    struct resolved r;
    bool ok;

    *out = NULL;
    /* Quoted and block scalars are strings unless a tag says otherwise;
     * unknown tags count as none. */
    if (tag == TAG_STR ||
        (tag == TAG_NONE && ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE))
        goto string;
    if (resolve_plain(s, n, &r) != 0)
        return nomem(b);
    switch (tag) {
    case TAG_NULL:
        ok = r.kind == SCALAR_NULL;
        break;
    case TAG_BOOL:
        ok = r.kind == SCALAR_BOOL;
        break;
    case TAG_INT:
        ok = r.kind == SCALAR_INT;
        break;
    case TAG_FLOAT:
        /* go-yaml turns an integer tagged !!float into a float. */
        if (r.kind == SCALAR_INT && !r.big)
            r.real = (double)r.integer;
        ok = r.kind == SCALAR_INT || r.kind == SCALAR_FLOAT;
        if (ok)
            r.kind = SCALAR_FLOAT;
        break;
    default:
        ok = true;
        break;
    }
    if (!ok) {
        np_error_set(b->err, NP_E_SYNTAX, "cannot decode \"%.*s\" as %s",
                     n > 64 ? 64 : (int)n, s, tag_name(tag));
        return at_mark(b, &ev->start_mark);
    }
    switch (r.kind) {
    case SCALAR_NULL:
        *out = json_null();
        break;
    case SCALAR_BOOL:
        *out = json_boolean(r.truth);
        break;
    case SCALAR_INT:
        *out = r.big ? json_real(r.real) : json_integer(r.integer);
        break;
    case SCALAR_FLOAT:
        if (!isfinite(r.real)) {
            np_error_set(b->err, NP_E_SYNTAX,
                         "the YAML value %.*s is not a finite number, which "
                         "JSON cannot hold; quote it to make it a string",
                         n > 64 ? 64 : (int)n, s);
            return at_mark(b, &ev->start_mark);
        }
        *out = json_real(r.real);
        break;
    case SCALAR_STR:
        goto string;
    }
    if (*out == NULL)
        return nomem(b);
    return 0;
string:
    /* libyaml has checked the input's UTF-8 and writes escapes as UTF-8. */
    *out = json_stringn_nocheck(s, n);
    if (*out == NULL)
        return nomem(b);
    return 0;
}

static int
on_scalar(struct build *b, yaml_event_t *ev)
{
    const char *anchor = (const char *)ev->data.scalar.anchor;
    size_t n = ev->data.scalar.length;
    struct frame *f;
    json_t *v;
    int rc;

    if (b->lim->max_string != 0 && n > b->lim->max_string) {
        np_error_set(b->err, NP_E_LIMIT_EXCEEDED,
                     "a string of %zu bytes exceeds the limit of %zu bytes "
                     "(max_string)",
                     n, b->lim->max_string);
        return at_mark(b, &ev->start_mark);
    }
    b->own_nodes++;
    if (!key_expected(b)) {
        if (scalar_decode(b, ev, &v) != 0)
            return -1;
        if (anchor != NULL && anchor_define(b, anchor, v, 1, 0) != 0) {
            json_decref(v);
            return -1;
        }
        return deliver(b, v, 0, &ev->start_mark);
    }
    /* A key is its text as written, whatever it would be as a value; an
     * anchor on a key names that text. */
    f = top(b);
    if (key_check(b, f, (const char *)ev->data.scalar.value, n,
                  &ev->start_mark) != 0)
        return -1;
    if (anchor != NULL) {
        v = json_stringn_nocheck((const char *)ev->data.scalar.value, n);
        if (v == NULL)
            return nomem(b);
        rc = anchor_define(b, anchor, v, 1, 0);
        json_decref(v);
        if (rc != 0)
            return -1;
    }
    /* A plain << (or one tagged !!merge) merges mappings in (go-yaml's
     * isMerge). */
    f->key_is_merge =
        n == 2 && memcmp(ev->data.scalar.value, "<<", 2) == 0 &&
        ((ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
          ev->data.scalar.tag == NULL) ||
         (ev->data.scalar.tag != NULL &&
          strcmp((const char *)ev->data.scalar.tag, MERGE_TAG) == 0));
    /* The event moves into the frame, so the key's text is not copied. */
    f->key_ev = *ev;
    memset(ev, 0, sizeof(*ev));
    f->key = (const char *)f->key_ev.data.scalar.value;
    f->keylen = n;
    f->has_key = true;
    return 0;
}

static int
on_alias(struct build *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    json_t *ix = json_object_get(b->anchor_ix, name);
    const struct anchor *a;
    struct frame *f;

    if (ix == NULL) {
        if (anchor_is_open(b, name)) {
            np_error_set(b->err, NP_E_SYNTAX,
                         "alias *%.64s is used inside the node its anchor "
                         "names",
                         name);
        } else {
            np_error_set(b->err, NP_E_SYNTAX, "unknown anchor \"%.64s\"", name);
        }
        return at_mark(b, &ev->start_mark);
    }
    a = &b->anchors[json_integer_value(ix)];
    b->own_nodes++;
    b->alias_nodes += a->nodes;
    if (check_aliases(b, &ev->start_mark) != 0)
        return -1;
    if (key_expected(b)) {
        f = top(b);
        if (!json_is_string(a->node)) {
            np_error_set(b->err, NP_E_SYNTAX,
                         "mapping keys must be strings, and *%.64s is not one",
                         name);
            return at_mark(b, &ev->start_mark);
        }
        if (key_check(b, f, json_string_value(a->node),
                      json_string_length(a->node), &ev->start_mark) != 0)
            return -1;
        f->key_str = json_incref(a->node);
        f->key = json_string_value(f->key_str);
        f->keylen = json_string_length(f->key_str);
        f->has_key = true;
        return 0;
    }
    if (check_depth(b, b->depth + a->height, &ev->start_mark) != 0)
        return -1;
    return deliver(b, json_incref(a->node), a->height, &ev->start_mark);
}

static int
on_start(struct build *b, const yaml_event_t *ev, bool is_map)
{
    const yaml_char_t *anchor =
        is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    struct frame *f;

    if (key_expected(b)) {
        np_error_set(b->err, NP_E_SYNTAX,
                     "mapping keys must be strings, not %s",
                     is_map ? "mappings" : "sequences");
        return at_mark(b, &ev->start_mark);
    }
    if (check_depth(b, b->depth + 1, &ev->start_mark) != 0)
        return -1;
    if (b->depth == b->stack_cap) {
        size_t ncap = b->stack_cap == 0 ? 16 : b->stack_cap * 2;
        struct frame *ns = realloc(b->stack, ncap * sizeof(*ns));

        if (ns == NULL)
            return nomem(b);
        b->stack = ns;
        b->stack_cap = ncap;
    }
    f = &b->stack[b->depth];
    memset(f, 0, sizeof(*f));
    f->node = is_map ? json_object() : json_array();
    if (f->node == NULL)
        return nomem(b);
    if (anchor != NULL) {
        f->anchor = strdup((const char *)anchor);
        if (f->anchor == NULL) {
            frame_clear(f);
            return nomem(b);
        }
    }
    f->start_nodes = total_nodes(b);
    f->height = 1;
    f->mark = ev->start_mark;
    b->own_nodes++;
    b->depth++;
    return 0;
}

static int
on_end(struct build *b)
{
    struct frame *f = top(b);
    json_t *node;
    char *anchor;
    size_t height;
    yaml_mark_t mark;
    int rc = 0;

    if (f == NULL)
        return np_error_set(b->err, NP_E_INTERNAL,
                            "libyaml ended a node that was never started");
    if (f->merged != NULL &&
        json_object_update_missing(f->node, f->merged) != 0)
        return nomem(b);
    node = f->node;
    f->node = NULL;
    anchor = f->anchor;
    f->anchor = NULL;
    height = f->height;
    mark = f->mark;
    if (anchor != NULL)
        rc = anchor_define(b, anchor, node, total_nodes(b) - f->start_nodes,
                           height);
    free(anchor);
    frame_clear(f);
    b->depth--;
    if (rc != 0) {
        json_decref(node);
        return -1;
    }
    return deliver(b, node, height, &mark);
}

static int
on_document_end(struct build *b)
{
    json_t *v = b->root;

    b->root = NULL;
    anchors_reset(b);
    if (b->depth != 0) {
        json_decref(v);
        return np_error_set(b->err, NP_E_INTERNAL,
                            "libyaml ended a document inside a node");
    }
    /* A document with nothing in it, or only null, holds no object. */
    if (v == NULL || json_is_null(v)) {
        json_decref(v);
        b->in_doc = false;
        return 0;
    }
    if (b->lim->max_documents != 0 && b->out->n >= b->lim->max_documents) {
        json_decref(v);
        np_error_set(b->err, NP_E_LIMIT_EXCEEDED,
                     "more than %zu documents exceeds the limit of %zu "
                     "documents (max_documents)",
                     b->lim->max_documents, b->lim->max_documents);
        return at_mark(b, &b->doc_mark);
    }
    b->in_doc = false;
    if (docs_append(b->out, &b->out_cap, v, b->doc,
                    (int)b->doc_mark.line + 1) != 0)
        return nomem(b);
    return 0;
}

/* Handles one event; moves it out of ev when it keeps it. */
static int
on_event(struct build *b, yaml_event_t *ev, bool *done)
{
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        *done = true;
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        b->doc++;
        b->in_doc = true;
        b->doc_mark = ev->start_mark;
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        return on_document_end(b);
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, false);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b);
    default:
        return 0;
    }
}

/* Counts lines and characters of body up to offset (libyaml's reader errors
 * give a byte offset, not a mark). */
static void
offset_position(const char *body, size_t len, size_t offset, int *line,
                int *column)
{
    size_t i;

    *line = 1;
    *column = 1;
    if (offset > len)
        offset = len;
    for (i = 0; i < offset; i++) {
        if (body[i] == '\n') {
            (*line)++;
            *column = 1;
        } else if (((unsigned char)body[i] & 0xC0) != 0x80) {
            (*column)++;
        }
    }
}

static int
parser_error(struct build *b, const yaml_parser_t *p, const char *body,
             size_t len)
{
    int line;
    int column;

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return nomem(b);
    case YAML_READER_ERROR:
        offset_position(body, len, p->problem_offset, &line, &column);
        if (p->problem_value != -1) {
            np_error_set(b->err, NP_E_SYNTAX,
                         "YAML syntax error: %s (byte 0x%02X at line %d, "
                         "column %d)",
                         p->problem, (unsigned)p->problem_value & 0xFF, line,
                         column);
        } else {
            np_error_set(b->err, NP_E_SYNTAX, "YAML syntax error: %s",
                         p->problem);
        }
        return at_line(b, line, column);
    default:
        if (p->context != NULL) {
            np_error_set(b->err, NP_E_SYNTAX,
                         "YAML syntax error: %s (%s at line %zu, column %zu)",
                         p->problem != NULL ? p->problem : "invalid input",
                         p->context, p->context_mark.line + 1,
                         p->context_mark.column + 1);
        } else {
            np_error_set(b->err, NP_E_SYNTAX, "YAML syntax error: %s",
                         p->problem != NULL ? p->problem : "invalid input");
        }
        return at_mark(b, &p->problem_mark);
    }
}

static void
build_fini(struct build *b)
{
    while (b->depth > 0)
        frame_clear(&b->stack[--b->depth]);
    free(b->stack);
    json_decref(b->root);
    if (b->anchor_ix != NULL)
        anchors_reset(b);
    json_decref(b->anchor_ix);
    free(b->anchors);
}

static int
parse_yaml(const char *body, size_t len, const struct api_limits *lim,
           struct api_docs *out, struct np_error *err, int *ndocuments,
           size_t *alias_nodes)
{
    struct build b;
    yaml_parser_t parser;
    yaml_event_t ev;
    bool done = false;
    int rc = -1;

    memset(&b, 0, sizeof(b));
    b.lim = lim;
    b.err = err;
    b.err_preset = np_error_is_set(err);
    b.out = out;
    b.doc = -1;
    b.anchor_ix = json_object();
    if (b.anchor_ix == NULL)
        return nomem(&b);
    if (!yaml_parser_initialize(&parser)) {
        json_decref(b.anchor_ix);
        return nomem(&b);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)body, len);
    while (!done) {
        int evrc;

        if (!yaml_parser_parse(&parser, &ev)) {
            parser_error(&b, &parser, body, len);
            goto out;
        }
        evrc = on_event(&b, &ev, &done);
        yaml_event_delete(&ev);
        if (evrc != 0)
            goto out;
    }
    rc = 0;
    if (ndocuments != NULL)
        *ndocuments = b.doc + 1;
    if (alias_nodes != NULL)
        *alias_nodes = b.alias_nodes;
out:
    build_fini(&b);
    yaml_parser_delete(&parser);
    return rc;
}

/*
 * Large streams are parsed as two halves at once, split at a document
 * marker: a line starting with "---" and a blank always starts a document
 * (YAML forbids it inside scalars and collections), so the halves hold the
 * same documents the whole stream does. Anything unusual (directives, no
 * marker near the middle, any error in either half, too many documents,
 * aliases in the second half) makes the caller parse the stream in one go,
 * which then reports the exact error.
 *
 * Once both halves have parsed cleanly, each thread may go on with its own
 * half's documents (api_docs_parse_halves()'s fn): uploads decode them
 * there. The threads meet after parsing, so that neither half's work starts
 * before the stream is known to parse and the second half's documents have
 * their indexes and lines in the whole stream.
 */
size_t api_yaml_halves_min_bytes = (size_t)1 << 20;

/* What the two threads share from the end of parsing on, under lock. */
struct meeting {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool parsed;    /* the second half is parsed */
    bool decided;   /* the first half is parsed and go is set */
    bool go;        /* both halves parsed cleanly: their documents count */
    int ndocuments; /* documents of the first half, empty ones included */
    int nlines;     /* line breaks before the cut */
};

struct half {
    const char *body;
    size_t len;
    const struct api_limits *lim;
    struct api_docs docs;
    struct np_error err;
    int ndocuments;
    size_t alias_nodes; /* nodes its aliases expanded to */
    int rc;
    bool use_arena;
    struct api_jarena arena;
    struct meeting *meeting;
    api_docs_half_fn *fn;
    void *arg;
};

static void *
half_main(void *arg)
{
    struct half *h = arg;
    struct meeting *m = h->meeting;
    bool go;
    size_t i;

    if (h->use_arena)
        api_jarena_enter(&h->arena);
    h->rc = parse_yaml(h->body, h->len, h->lim, &h->docs, &h->err,
                       &h->ndocuments, &h->alias_nodes);
    pthread_mutex_lock(&m->lock);
    m->parsed = true;
    pthread_cond_signal(&m->cond);
    while (!m->decided)
        pthread_cond_wait(&m->cond, &m->lock);
    go = m->go;
    pthread_mutex_unlock(&m->lock);
    if (go) {
        /* The second half's documents follow the first's, in the stream
         * and in the body's lines. */
        for (i = 0; i < h->docs.n; i++) {
            h->docs.index[i] += m->ndocuments;
            h->docs.line[i] += m->nlines;
        }
        if (h->fn != NULL)
            h->fn(h->arg, 1, &h->docs);
    }
    if (h->use_arena)
        api_jarena_leave();
    return NULL;
}

/* The offset of a document marker near the middle of body, or 0. */
static size_t
split_point(const char *body, size_t len)
{
    const char *p, *end = body + len, *mid = body + len / 2, *found = NULL;

    /* Directives belong to the document they precede: leave them whole. */
    if (body[0] == '%')
        return 0;
    for (p = body; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
        const char *line = p + 1;

        if (line < end && *line == '%')
            return 0;
        if (found == NULL && line >= mid && end - line >= 3 &&
            memcmp(line, "---", 3) == 0 &&
            (end - line == 3 || line[3] == ' ' || line[3] == '\t' ||
             line[3] == '\n' || line[3] == '\r'))
            found = line;
    }
    return found != NULL ? (size_t)(found - body) : 0;
}

/* Frees a half's documents inside the arena scope their values came from. */
static void
half_fini(struct half *h, struct api_jarena *scope)
{
    if (h->use_arena) {
        api_jarena_enter(&h->arena);
        api_docs_fini(&h->docs);
        api_jarena_leave();
        if (scope != NULL)
            api_jarena_enter(scope);
        api_jarena_fini(&h->arena);
    } else {
        api_docs_fini(&h->docs);
    }
}

/* Parses body as two halves split at cut, running fn (may be NULL) on each
 * half's documents once both parsed. Returns 0 with out filled; 1 (out
 * empty, err untouched, fn not run) when the stream must be parsed in one
 * go; or -1 with err set (NP_E_NOMEM) when fn ran but the documents could
 * not be put together. */
static int
parse_yaml_halves(const char *body, size_t len, size_t cut,
                  const struct api_limits *lim, api_docs_half_fn *fn, void *arg,
                  struct api_docs *out, struct np_error *err)
{
    struct api_jarena *scope = api_jarena_current();
    struct meeting m;
    struct half first, second;
    pthread_t thread;
    size_t i, cap;
    const char *p;
    int rc = 1;

    memset(&m, 0, sizeof(m));
    memset(&first, 0, sizeof(first));
    memset(&second, 0, sizeof(second));
    first.docs.in_arena = scope != NULL;
    second.docs.in_arena = scope != NULL;
    np_error_init(&first.err);
    np_error_init(&second.err);
    second.body = body + cut;
    second.len = len - cut;
    second.lim = lim;
    second.use_arena = scope != NULL;
    second.meeting = &m;
    second.fn = fn;
    second.arg = arg;
    api_jarena_init(&second.arena);
    if (pthread_mutex_init(&m.lock, NULL) != 0)
        return 1;
    if (pthread_cond_init(&m.cond, NULL) != 0) {
        pthread_mutex_destroy(&m.lock);
        return 1;
    }
    if (pthread_create(&thread, NULL, half_main, &second) != 0)
        goto out_sync;
    first.rc = parse_yaml(body, cut, lim, &first.docs, &first.err,
                          &first.ndocuments, NULL);
    for (p = body; (p = memchr(p, '\n', (size_t)(body + cut - p))) != NULL; p++)
        m.nlines++;
    pthread_mutex_lock(&m.lock);
    while (!m.parsed)
        pthread_cond_wait(&m.cond, &m.lock);
    /* The alias limit counts over the whole stream: the first half checks
     * exactly what the stream would up to the cut, but the second half
     * starts from nothing. Aliases there are rare enough (kubectl never
     * writes them) to send the stream to the one-go parse. */
    m.go = first.rc == 0 && second.rc == 0 && second.alias_nodes == 0 &&
           (lim->max_documents == 0 ||
            first.docs.n + second.docs.n <= lim->max_documents);
    m.ndocuments = first.ndocuments;
    m.decided = true;
    pthread_cond_signal(&m.cond);
    pthread_mutex_unlock(&m.lock);
    if (m.go && fn != NULL)
        fn(arg, 0, &first.docs);
    pthread_join(thread, NULL);
    if (!m.go)
        goto out;
    if (second.use_arena && api_jarena_adopt(scope, &second.arena) != 0)
        goto nomem;
    *out = first.docs;
    memset(&first.docs, 0, sizeof(first.docs));
    cap = out->n;
    for (i = 0; i < second.docs.n; i++) {
        if (docs_append(out, &cap, second.docs.docs[i], second.docs.index[i],
                        second.docs.line[i]) != 0) {
            /* docs_append released the document it failed on. */
            second.docs.docs[i] = NULL;
            for (i++; i < second.docs.n; i++)
                json_decref(second.docs.docs[i]);
            second.docs.n = 0;
            api_docs_fini(out);
            goto nomem;
        }
        second.docs.docs[i] = NULL;
    }
    second.docs.n = 0;
    rc = 0;
    goto out;
nomem:
    /* Without fn the stream may still be parsed in one go; with it, the
     * caller has done its work on the halves and cannot start over. */
    if (fn != NULL)
        rc = np_error_set(err, NP_E_NOMEM, "out of memory reading the body");
out:
    api_docs_fini(&first.docs);
    half_fini(&second, scope);
out_sync:
    pthread_cond_destroy(&m.cond);
    pthread_mutex_destroy(&m.lock);
    return rc;
}

/* --- JSON --- */

static size_t
utf8_len(unsigned long cp)
{
    if (cp < 0x80)
        return 1;
    if (cp < 0x800)
        return 2;
    if (cp < 0x10000)
        return 3;
    return 4;
}

/* Reads the 4 hex digits of a \u escape at s; false if they are not. */
static bool
hex4(const char *s, size_t avail, unsigned long *out)
{
    size_t i;

    *out = 0;
    if (avail < 4)
        return false;
    for (i = 0; i < 4; i++) {
        int d = digit_value(s[i]);

        if (d > 15)
            return false;
        *out = *out * 16 + (unsigned long)d;
    }
    return true;
}

struct scan {
    const char *body;
    size_t len;
    size_t i;
    int line; /* of body[i - 1], 1-based */
    int column;
};

/* Steps over the string starting at the quote s->i and returns the bytes it
 * decodes to (exact for valid JSON; jansson reports invalid JSON). */
static size_t
scan_string(struct scan *s)
{
    size_t n = 0;

    s->i++; /* the opening quote, already counted */
    while (s->i < s->len) {
        unsigned char c = (unsigned char)s->body[s->i];
        unsigned long cp;
        unsigned long lo;

        if (c == '"') {
            s->i++;
            s->column++;
            return n;
        }
        if (c == '\\' && s->i + 1 < s->len && s->body[s->i + 1] == 'u' &&
            hex4(s->body + s->i + 2, s->len - s->i - 2, &cp)) {
            s->i += 6;
            s->column += 6;
            /* A surrogate pair is one 4-byte character. */
            if (cp >= 0xD800 && cp < 0xDC00 && s->i + 1 < s->len &&
                s->body[s->i] == '\\' && s->body[s->i + 1] == 'u' &&
                hex4(s->body + s->i + 2, s->len - s->i - 2, &lo) &&
                lo >= 0xDC00 && lo < 0xE000) {
                s->i += 6;
                s->column += 6;
                n += 4;
            } else {
                n += utf8_len(cp);
            }
            continue;
        }
        if (c == '\\') {
            s->i += 2;
            s->column += 2;
            n++;
            continue;
        }
        if (c == '\n') {
            s->line++;
            s->column = 0;
        } else if ((c & 0xC0) != 0x80) {
            s->column++;
        }
        s->i++;
        n++;
    }
    return n;
}

/* Gives err the position line and column of the JSON document. Returns -1. */
static int
json_at(struct np_error *err, bool err_preset, int line, int column)
{
    if (err != NULL && !err_preset) {
        err->document = 0;
        err->line = line;
        err->column = column;
    }
    return -1;
}

/* Checks nesting and string lengths before jansson parses body, so that
 * jansson's recursion stays within lim->max_depth, and finds the line of the
 * first value (0 if there is none). Returns 0, or -1 with err set. */
static int
json_prescan(const char *body, size_t len, const struct api_limits *lim,
             bool err_preset, struct np_error *err, int *first_line)
{
    struct scan s = { .body = body, .len = len, .line = 1 };
    size_t depth = 0;

    *first_line = 0;
    while (s.i < s.len) {
        unsigned char c = (unsigned char)body[s.i];
        int line;
        int column;
        size_t n;

        if (c == '\n') {
            s.line++;
            s.column = 0;
            s.i++;
            continue;
        }
        if ((c & 0xC0) != 0x80)
            s.column++;
        if (*first_line == 0 && c != ' ' && c != '\t' && c != '\r')
            *first_line = s.line;
        if (c == '"') {
            line = s.line;
            column = s.column;
            n = scan_string(&s);
            if (lim->max_string != 0 && n > lim->max_string) {
                np_error_set(err, NP_E_LIMIT_EXCEEDED,
                             "a string of %zu bytes exceeds the limit of %zu "
                             "bytes (max_string)",
                             n, lim->max_string);
                return json_at(err, err_preset, line, column);
            }
            continue;
        }
        if (c == '[' || c == '{') {
            depth++;
            if (lim->max_depth != 0 && depth > lim->max_depth) {
                np_error_set(err, NP_E_LIMIT_EXCEEDED,
                             "nesting of %zu levels exceeds the limit of %zu "
                             "levels (max_depth)",
                             depth, lim->max_depth);
                return json_at(err, err_preset, s.line, s.column);
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
        s.i++;
    }
    return 0;
}

static int
parse_json(const char *body, size_t len, const struct api_limits *lim,
           struct api_docs *out, struct np_error *err)
{
    bool err_preset = np_error_is_set(err);
    json_error_t jerr;
    json_t *v;
    size_t cap = 0;
    int first_line;

    if (json_prescan(body, len, lim, err_preset, err, &first_line) != 0)
        return -1;
    if (first_line == 0) {
        np_error_set(err, NP_E_SYNTAX,
                     "JSON syntax error: the body holds no JSON value");
        return json_at(err, err_preset, 1, 1);
    }
    v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        switch (json_error_code(&jerr)) {
        case json_error_out_of_memory:
            np_error_set(err, NP_E_NOMEM, "out of memory reading the body");
            break;
        case json_error_stack_overflow:
            np_error_set(err, NP_E_LIMIT_EXCEEDED,
                         "nesting of more than %d levels exceeds the limit of "
                         "the JSON parser (max_depth)",
                         JANSSON_MAX_DEPTH);
            break;
        default:
            np_error_set(err, NP_E_SYNTAX, "JSON syntax error: %s", jerr.text);
            break;
        }
        /* jansson counts a bad first byte as column 0 of line 1. */
        return json_at(err, err_preset, jerr.line > 0 ? jerr.line : 0,
                       jerr.line > 0 && jerr.column < 1 ? 1 : jerr.column);
    }
    /* As in a YAML stream, a null document holds no object. */
    if (json_is_null(v)) {
        json_decref(v);
        return 0;
    }
    if (docs_append(out, &cap, v, 0, first_line) != 0)
        return np_error_set(err, NP_E_NOMEM, "out of memory reading the body");
    return 0;
}

/* --- JSON Lists on two threads --- */

/*
 * A large JSON List ({"kind": "List", "items": [...]}, as kubectl get -o json
 * prints it) is parsed on two threads too. A scan from the start, with the
 * checks json_prescan() makes, finds the top-level member "items" and a
 * comma between two of its items past the middle of the body (the split).
 * The other thread scans the rest of the body the same way, finding the
 * bracket that closes items (the close), then parses the items after the
 * split one by one. Meanwhile this thread parses the body with those items
 * left out (the bytes before the split, then those from the close on),
 * which is the same List holding the first items. Appending the second
 * thread's items to it gives the tree that parsing the whole body gives.
 *
 * As for YAML, once both threads have parsed cleanly each may go on with
 * its half (fn): this one with the List holding the first items, the other
 * with the items after the split, which it reads the List's kind and
 * apiVersion for. The items are appended once both are done.
 *
 * Anything unusual (the body is not an object, no "items" array reaching
 * past the middle, a limit broken, any error in either thread) makes the
 * caller parse the body in one go, which then gives the exact answer, and
 * the error with its line and column.
 */
size_t api_json_halves_min_bytes = (size_t)1 << 20;
atomic_size_t api_json_halves_parsed;

static bool
is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Checks a string the scan at its opening quote steps over, as
 * json_prescan() does; false when it breaks max_string. */
static bool
split_string(struct scan *s, const struct api_limits *lim)
{
    size_t n = scan_string(s);

    return lim->max_string == 0 || n <= lim->max_string;
}

/* Counts a level of nesting; false beyond max_depth or beyond what
 * jansson's parser takes (the items, parsed on their own, sit two levels
 * less deep than in the body, so jansson alone would not tell). */
static bool
split_nest(size_t *depth, const struct api_limits *lim)
{
    (*depth)++;
    return *depth <= JANSSON_MAX_DEPTH &&
           (lim->max_depth == 0 || *depth <= lim->max_depth);
}

/* Scans body from its start as json_prescan() does. When the body is an
 * object whose member "items" is an array reaching past the middle, returns
 * true with *split at the first comma between two of its items at or after
 * the middle, *nbefore the items before that comma and *first_line the line
 * of the opening brace. Otherwise (the checks included) returns false. */
static bool
split_find(const char *body, size_t len, const struct api_limits *lim,
           size_t *split, size_t *nbefore, int *first_line)
{
    struct scan s = { .body = body, .len = len, .line = 1 };
    size_t depth = 0, ncommas = 0;
    bool want_key = false;  /* the next string of the object is a key */
    bool items_key = false; /* the value of "items" comes next */
    bool in_items = false;

    while (s.i < len && is_json_space(body[s.i])) {
        if (body[s.i] == '\n')
            s.line++;
        s.i++;
    }
    if (s.i == len || body[s.i] != '{')
        return false;
    *first_line = s.line;
    while (s.i < len) {
        char c = body[s.i];

        if (c == '"') {
            size_t start = s.i;

            if (!split_string(&s, lim))
                return false;
            if (depth == 1) {
                /* A key written with escapes is not recognised: the body is
                 * then parsed in one go. */
                items_key = want_key && !in_items && s.i - start == 7 &&
                            memcmp(body + start, "\"items\"", 7) == 0;
                want_key = false;
            }
            continue;
        }
        if (depth == 1 && c != ':' && c != '[' && !is_json_space(c))
            items_key = false;
        switch (c) {
        case '{':
        case '[':
            if (depth == 1 && c == '[' && items_key) {
                in_items = true;
                items_key = false;
            }
            if (!split_nest(&depth, lim))
                return false;
            want_key = depth == 1;
            break;
        case '}':
        case ']':
            if (depth == 0)
                return false;
            depth--;
            /* The List ends, or its items do, before the middle. */
            if (depth == 0 || (depth == 1 && in_items))
                return false;
            break;
        case ',':
            if (depth == 1) {
                want_key = true;
            } else if (depth == 2 && in_items) {
                ncommas++;
                if (s.i >= len / 2) {
                    *split = s.i;
                    *nbefore = ncommas;
                    return true;
                }
            }
            break;
        default:
            break;
        }
        s.i++;
    }
    return false;
}

/* Scans body from the split (a comma inside items, two levels deep) to its
 * end as json_prescan() does. Returns true with *close at the bracket that
 * closes items; false when the rest breaks a check or items is not closed
 * by a bracket. */
static bool
split_rest(const char *body, size_t len, size_t split,
           const struct api_limits *lim, size_t *close)
{
    struct scan s = { .body = body, .len = len, .i = split, .line = 1 };
    size_t depth = 2;

    *close = 0;
    while (s.i < len) {
        char c = body[s.i];

        if (c == '"') {
            if (!split_string(&s, lim))
                return false;
            continue;
        }
        if (c == '{' || c == '[') {
            if (!split_nest(&depth, lim))
                return false;
        } else if (c == '}' || c == ']') {
            /* Anything closed after the List is not JSON. */
            if (depth == 0)
                return false;
            depth--;
            if (depth == 1 && *close == 0) {
                if (c != ']')
                    return false;
                *close = s.i;
            }
        }
        s.i++;
    }
    return *close != 0;
}

/* The items after the split, parsed on a thread of their own. */
struct json_half {
    const char *body;
    size_t len;
    size_t split;
    const struct api_limits *lim;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool scanned;     /* the rest of the body is scanned: close is known */
    size_t close;     /* offset of the bracket closing items; 0 on failure */
    atomic_bool stop; /* the first half failed: the items are not needed */
    json_t *items;    /* the items parsed, in order; owned */
    bool ok;          /* every item up to the close parsed */
    bool use_arena;
    struct api_jarena arena;
    /* With fn, the threads meet once both are parsed, under lock. */
    api_docs_half_fn *fn;
    void *arg;
    bool parsed;          /* this thread is done parsing */
    bool decided;         /* the first half is parsed and go is set */
    bool go;              /* both halves parsed cleanly: run fn */
    struct api_docs list; /* for fn: the List with the first half's items */
};

static size_t
skip_json_space(const char *body, size_t end, size_t i)
{
    while (i < end && is_json_space(body[i]))
        i++;
    return i;
}

/* Parses the items from the split to the close into h->items. */
static void
json_half_items(struct json_half *h, size_t close)
{
    const char *body = h->body;
    size_t pos;

    h->items = json_array();
    pos = h->split + 1;
    while (h->items != NULL && !atomic_load(&h->stop)) {
        json_error_t jerr;
        json_t *v;

        /* Only objects and arrays end at a byte jansson has read, so that
         * its position tells where the next item starts. */
        pos = skip_json_space(body, close, pos);
        if (pos == close || (body[pos] != '{' && body[pos] != '['))
            break;
        v = json_loadb(body + pos, close - pos,
                       JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY |
                           JSON_REJECT_DUPLICATES,
                       &jerr);
        if (v == NULL || jerr.position <= 0)
            break;
        if (json_array_append_new(h->items, v) != 0)
            break;
        pos = skip_json_space(body, close, pos + (size_t)jerr.position);
        if (pos == close) {
            h->ok = true;
            break;
        }
        if (body[pos] != ',')
            break;
        pos++;
    }
}

/* Tells the first half this one is parsed, and runs fn on its items once
 * the first half is parsed too and both parsed cleanly. */
static void
json_half_meet(struct json_half *h)
{
    bool go;

    pthread_mutex_lock(&h->lock);
    h->parsed = true;
    pthread_cond_broadcast(&h->cond);
    while (!h->decided)
        pthread_cond_wait(&h->cond, &h->lock);
    go = h->go;
    pthread_mutex_unlock(&h->lock);
    if (go)
        h->fn(h->arg, 1, &h->list);
}

static void *
json_half_main(void *arg)
{
    struct json_half *h = arg;
    const char *body = h->body;
    size_t close;
    bool scanned;

    scanned = split_rest(body, h->len, h->split, h->lim, &close);
    pthread_mutex_lock(&h->lock);
    h->close = scanned ? close : 0;
    h->scanned = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    if (h->use_arena)
        api_jarena_enter(&h->arena);
    if (scanned)
        json_half_items(h, close);
    if (h->fn != NULL)
        json_half_meet(h);
    if (h->use_arena)
        api_jarena_leave();
    return NULL;
}

/* Feeds jansson the body without the items after the split: the bytes
 * before the split, then, once the other thread has found it, those from
 * the close on. */
struct json_reader {
    struct json_half *h;
    size_t pos;
    size_t end;
    bool tail; /* reading from the close on */
};

static size_t
json_read_first(void *buf, size_t buflen, void *arg)
{
    struct json_reader *r = arg;
    struct json_half *h = r->h;
    size_t n;

    if (r->pos == r->end && !r->tail) {
        pthread_mutex_lock(&h->lock);
        while (!h->scanned)
            pthread_cond_wait(&h->cond, &h->lock);
        pthread_mutex_unlock(&h->lock);
        /* jansson takes this as an error. */
        if (h->close == 0)
            return (size_t)-1;
        r->pos = h->close;
        r->end = h->len;
        r->tail = true;
    }
    n = r->end - r->pos;
    if (n > buflen)
        n = buflen;
    memcpy(buf, h->body + r->pos, n);
    r->pos += n;
    return n;
}

/* Parses a JSON List body on two threads, running fn (may be NULL) on each
 * half's items once both parsed. Returns 0 with out filled; 1 (out empty,
 * nothing reported, fn not run) when the body must be parsed in one go; or
 * -1 with err set (NP_E_NOMEM) when fn ran but the items could not be put
 * together. */
static int
parse_json_halves(const char *body, size_t len, const struct api_limits *lim,
                  api_docs_half_fn *fn, void *arg, struct api_docs *out,
                  struct np_error *err)
{
    struct api_jarena *scope = api_jarena_current();
    struct api_jarena first_arena;
    struct json_half h;
    struct json_reader r;
    struct api_docs list;
    pthread_t thread;
    json_error_t jerr;
    json_t *v = NULL;
    json_t *items = NULL;
    size_t split, nbefore, cap = 0;
    int first_line, zero = 0;
    bool go;
    int rc = 1;

    if (!split_find(body, len, lim, &split, &nbefore, &first_line))
        return 1;
    memset(&h, 0, sizeof(h));
    h.body = body;
    h.len = len;
    h.split = split;
    h.lim = lim;
    h.fn = fn;
    h.arg = arg;
    atomic_init(&h.stop, false);
    h.use_arena = scope != NULL;
    api_jarena_init(&h.arena);
    api_jarena_init(&first_arena);
    if (pthread_mutex_init(&h.lock, NULL) != 0)
        return 1;
    if (pthread_cond_init(&h.cond, NULL) != 0) {
        pthread_mutex_destroy(&h.lock);
        return 1;
    }
    if (pthread_create(&thread, NULL, json_half_main, &h) != 0)
        goto out_sync;
    /* The first half gets an arena of its own too, so that a failure
     * returns its memory before the body is parsed again. */
    if (scope != NULL)
        api_jarena_enter(&first_arena);
    memset(&r, 0, sizeof(r));
    r.h = &h;
    r.end = split;
    v = json_load_callback(json_read_first, &r,
                           JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        atomic_store(&h.stop, true);
    if (scope != NULL)
        api_jarena_enter(scope);
    items = json_object_get(v, "items");
    if (fn != NULL) {
        pthread_mutex_lock(&h.lock);
        while (!h.parsed)
            pthread_cond_wait(&h.cond, &h.lock);
        go = v != NULL && h.ok && json_is_array(items) &&
             json_array_size(items) == nbefore;
        /* fn runs in the caller's scope, which then must own the List. */
        if (go && scope != NULL && api_jarena_adopt(scope, &first_arena) != 0)
            go = false;
        memset(&list, 0, sizeof(list));
        if (go) {
            /* Both halves see the List as the first half has it. */
            list.n = 1;
            list.docs = &v;
            list.index = &zero;
            list.line = &first_line;
            list.in_arena = scope != NULL;
            h.list = list;
            h.list.items = h.items;
            h.list.first_item = nbefore;
            list.items = items;
        }
        h.go = go;
        h.decided = true;
        pthread_cond_broadcast(&h.cond);
        pthread_mutex_unlock(&h.lock);
        if (go)
            fn(arg, 0, &list);
    }
    pthread_join(thread, NULL);
    if (v == NULL || !h.ok)
        goto out;
    if (!json_is_array(items) || json_array_size(items) != nbefore)
        goto out;
    if (scope != NULL && (api_jarena_adopt(scope, &first_arena) != 0 ||
                          api_jarena_adopt(scope, &h.arena) != 0))
        goto nomem;
    if (json_array_extend(items, h.items) != 0)
        goto nomem;
    rc = docs_append(out, &cap, v, 0, first_line) == 0 ? 0 : 1;
    /* docs_append() stole v, or released it. */
    v = NULL;
    if (rc == 0)
        atomic_fetch_add(&api_json_halves_parsed, 1);
    else if (h.go)
        rc = np_error_set(err, NP_E_NOMEM, "out of memory reading the body");
    goto out;
nomem:
    /* Without fn having run the body may still be parsed in one go; with
     * it, the caller has done its work on the halves and cannot start
     * over. */
    if (h.go)
        rc = np_error_set(err, NP_E_NOMEM, "out of memory reading the body");
out:
    if (scope == NULL) {
        json_decref(v);
        json_decref(h.items);
    } else {
        /* Values left in an arena go with it: they are not released one
         * by one. */
        api_jarena_fini(&first_arena);
        api_jarena_fini(&h.arena);
    }
out_sync:
    pthread_cond_destroy(&h.cond);
    pthread_mutex_destroy(&h.lock);
    return rc;
}

int
api_docs_parse(const char *body, size_t len, enum api_format fmt,
               const struct api_limits *lim, struct api_docs *out,
               struct np_error *err)
{
    return api_docs_parse_halves(body, len, fmt, lim, NULL, NULL, out, err);
}

int
api_docs_parse_halves(const char *body, size_t len, enum api_format fmt,
                      const struct api_limits *lim, api_docs_half_fn *fn,
                      void *arg, struct api_docs *out, struct np_error *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    out->in_arena = api_jarena_current() != NULL;
    if (body == NULL) {
        body = "";
        len = 0;
    }
    if (lim == NULL)
        lim = &no_limits;
    if (fmt == API_FORMAT_JSON) {
        rc = len >= api_json_halves_min_bytes
                 ? parse_json_halves(body, len, lim, fn, arg, out, err)
                 : 1;
        if (rc == -1)
            return rc;
        if (rc == 1)
            rc = parse_json(body, len, lim, out, err);
    } else {
        size_t cut =
            len >= api_yaml_halves_min_bytes ? split_point(body, len) : 0;

        rc = cut == 0
                 ? 1
                 : parse_yaml_halves(body, len, cut, lim, fn, arg, out, err);
        if (rc != 1)
            return rc;
        out->in_arena = api_jarena_current() != NULL;
        rc = parse_yaml(body, len, lim, out, err, NULL, NULL);
    }
    if (rc != 0)
        api_docs_fini(out);
    return rc;
}

/* --- positions of field paths --- */

/*
 * Paths are the ones manifest.c and core write: "name" segments joined by
 * dots, "[3]" for a sequence item, and "[key]" (Kubernetes' field.Path.Key())
 * or "[\"key\"]" for a map key that may hold dots, such as
 * metadata.labels[kubernetes.io/metadata.name]. A plain segment may also be a
 * key with dots in it: a key matches when the path continues with its whole
 * text followed by ".", "[" or the end. When several ways through the
 * document match the whole path, the one using the fewest segments (the
 * longest keys) wins, then the first in the document.
 *
 * Aliases are not followed: a path into one stops at the alias.
 */

struct loc_frame {
    bool is_map;
    bool on_path;    /* the path continues inside this node */
    size_t off;      /* where, in the path, the rest starts */
    size_t nsegs;    /* segments consumed to reach this node */
    size_t index;    /* sequences: index of the next item */
    bool want_value; /* mappings: the next node is a value */
    bool value_on_path;
    size_t value_off;
};

struct locator {
    const char *path;
    size_t plen;
    struct loc_frame *stack;
    size_t depth;
    size_t cap;
    bool found;
    size_t found_nsegs;
    yaml_mark_t found_mark;
    bool partial;
    size_t partial_off;
    yaml_mark_t partial_mark;
};

static size_t
skip_dot(const struct locator *l, size_t off)
{
    if (off < l->plen && l->path[off] == '.')
        off++;
    return off;
}

/* Does the key match the path segment at off? Sets *next past it. */
static bool
path_key_matches(const struct locator *l, size_t off, const char *key,
                 size_t klen, size_t *next)
{
    const char *p = l->path + off;
    size_t rest = l->plen - off;
    size_t i;
    size_t k;

    if (rest == 0)
        return false;
    if (p[0] == '[' && rest > 1 && p[1] == '"') {
        /* A quoted key: \" and \\ stand for " and \. */
        for (i = 2, k = 0; i < rest && p[i] != '"'; i++, k++) {
            if (p[i] == '\\' && i + 1 < rest)
                i++;
            if (k >= klen || key[k] != p[i])
                return false;
        }
        if (k != klen || i + 1 >= rest || p[i + 1] != ']')
            return false;
        *next = skip_dot(l, off + i + 2);
        return true;
    }
    if (p[0] == '[' && klen + 2 <= rest && memcmp(p + 1, key, klen) == 0 &&
        p[klen + 1] == ']') {
        *next = skip_dot(l, off + klen + 2);
        return true;
    }
    /* Otherwise the key's text as it is, "[x]" included. */
    if (klen == 0 || klen > rest || memcmp(p, key, klen) != 0)
        return false;
    if (klen < rest && p[klen] != '.' && p[klen] != '[')
        return false;
    *next = skip_dot(l, off + klen);
    return true;
}

/* Is the segment at off "[index]"? Sets *next past it. */
static bool
path_index_matches(const struct locator *l, size_t off, size_t index,
                   size_t *next)
{
    size_t i = off + 1;
    size_t v = 0;

    if (off >= l->plen || l->path[off] != '[')
        return false;
    if (i >= l->plen || l->path[i] < '0' || l->path[i] > '9')
        return false;
    for (; i < l->plen && l->path[i] >= '0' && l->path[i] <= '9'; i++) {
        if (v > (SIZE_MAX - 9) / 10)
            return false;
        v = v * 10 + (size_t)(l->path[i] - '0');
    }
    if (i >= l->plen || l->path[i] != ']' || v != index)
        return false;
    *next = skip_dot(l, i + 1);
    return true;
}

static void
loc_record(struct locator *l, size_t off, size_t nsegs, const yaml_mark_t *mark)
{
    if (off == l->plen) {
        if (!l->found || nsegs < l->found_nsegs) {
            l->found = true;
            l->found_nsegs = nsegs;
            l->found_mark = *mark;
        }
    } else if (!l->partial || off > l->partial_off) {
        l->partial = true;
        l->partial_off = off;
        l->partial_mark = *mark;
    }
}

/* A node of the parent ended: a key makes way for its value, a value for the
 * next key, an item for the next item. */
static void
loc_done(struct locator *l)
{
    struct loc_frame *p;

    if (l->depth == 0)
        return;
    p = &l->stack[l->depth - 1];
    if (!p->is_map) {
        p->index++;
    } else if (!p->want_value) {
        p->want_value = true;
    } else {
        p->want_value = false;
        p->value_on_path = false;
    }
}

/* Handles one event of the target document. Returns 0, or -1 when out of
 * memory. */
static int
loc_event(struct locator *l, const yaml_event_t *ev)
{
    struct loc_frame *p = l->depth == 0 ? NULL : &l->stack[l->depth - 1];
    bool is_start = ev->type == YAML_SEQUENCE_START_EVENT ||
                    ev->type == YAML_MAPPING_START_EVENT;
    bool on = false;
    size_t off = 0;
    size_t nsegs = 0;

    if (ev->type == YAML_SEQUENCE_END_EVENT ||
        ev->type == YAML_MAPPING_END_EVENT) {
        if (l->depth > 0)
            l->depth--;
        loc_done(l);
        return 0;
    }
    if (!is_start && ev->type != YAML_SCALAR_EVENT &&
        ev->type != YAML_ALIAS_EVENT)
        return 0;
    if (p == NULL) {
        on = true;
    } else if (p->is_map && !p->want_value) {
        /* A key: it is not on the path itself, but it decides whether its
         * value is. */
        p->value_on_path =
            p->on_path && ev->type == YAML_SCALAR_EVENT &&
            path_key_matches(l, p->off, (const char *)ev->data.scalar.value,
                             ev->data.scalar.length, &p->value_off);
    } else if (p->is_map) {
        on = p->value_on_path;
        off = p->value_off;
        nsegs = p->nsegs + 1;
    } else {
        on = p->on_path && path_index_matches(l, p->off, p->index, &off);
        nsegs = p->nsegs + 1;
    }
    if (on)
        loc_record(l, off, nsegs, &ev->start_mark);
    if (!is_start) {
        loc_done(l);
        return 0;
    }
    if (l->depth == l->cap) {
        size_t ncap = l->cap == 0 ? 16 : l->cap * 2;
        struct loc_frame *ns = realloc(l->stack, ncap * sizeof(*ns));

        if (ns == NULL)
            return -1;
        l->stack = ns;
        l->cap = ncap;
    }
    p = &l->stack[l->depth++];
    memset(p, 0, sizeof(*p));
    p->is_map = ev->type == YAML_MAPPING_START_EVENT;
    p->on_path = on;
    p->off = off;
    p->nsegs = nsegs;
    return 0;
}

int
api_locate(const char *body, size_t len, int doc, const char *path, int *line,
           int *column)
{
    struct locator l;
    yaml_parser_t parser;
    yaml_event_t ev;
    const yaml_mark_t *mark = NULL;
    int cur = -1;
    int rc = -1;

    *line = 0;
    *column = 0;
    if (path == NULL || doc < 0)
        return -1;
    if (body == NULL) {
        body = "";
        len = 0;
    }
    memset(&l, 0, sizeof(l));
    l.path = path;
    l.plen = strlen(path);
    if (!yaml_parser_initialize(&parser))
        return -1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)body, len);
    /* Stops at the end of the target document, or at the first syntax
     * error, keeping what was found before it. */
    for (;;) {
        bool stop = false;

        if (!yaml_parser_parse(&parser, &ev))
            break;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            stop = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            cur++;
            stop = cur > doc;
            break;
        case YAML_DOCUMENT_END_EVENT:
            stop = cur == doc;
            break;
        default:
            if (cur == doc)
                stop = loc_event(&l, &ev) != 0;
            break;
        }
        yaml_event_delete(&ev);
        if (stop)
            break;
    }
    if (l.found) {
        mark = &l.found_mark;
        rc = 0;
    } else if (l.partial) {
        mark = &l.partial_mark;
    }
    if (mark != NULL) {
        *line = (int)mark->line + 1;
        *column = (int)mark->column + 1;
    }
    free(l.stack);
    yaml_parser_delete(&parser);
    return rc;
}
