/*
 * A JSON text writer for the answers that are written most often: verdicts
 * with their traces. Building a tree of jansson values only to serialize it
 * costs more than the evaluation it reports; this writes the same text
 * directly. Strings are escaped as jansson's compact output escapes them,
 * and bytes that are not UTF-8 become U+FFFD as in api_json_text().
 *
 * Errors (out of memory, nesting deeper than API_JW_DEPTH) are remembered
 * and reported once by api_jw_finish().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The first buffer: most answers with a trace fit in it, so writing one
 * reallocates rarely. */
#define JW_FIRST_CAP 8192

/* Makes room for more bytes and a NUL; sets w->t.fail when out of memory. */
static void
grow_slow(struct api_jw *w, size_t more)
{
    size_t ncap;
    char *np;

    if (w->t.fail)
        return;
    ncap = w->t.cap == 0 ? JW_FIRST_CAP : w->t.cap;
    while (ncap <= w->t.len + more)
        ncap *= 2;
    np = realloc(w->t.p, ncap);
    if (np == NULL) {
        w->t.fail = true;
        return;
    }
    w->t.p = np;
    w->t.cap = ncap;
}

static inline void
grow(struct api_jw *w, size_t more)
{
    if (w->t.len + more >= w->t.cap)
        grow_slow(w, more);
}

static inline void
put(struct api_jw *w, const char *s, size_t n)
{
    if (w->t.len + n + 1 >= w->t.cap) {
        grow_slow(w, n + 1);
        if (w->t.fail)
            return;
    }
    np_copy_small(w->t.p + w->t.len, s, n);
    w->t.len += n;
}

static inline void
putc1(struct api_jw *w, char c)
{
    if (w->t.len + 2 >= w->t.cap) {
        grow_slow(w, 2);
        if (w->t.fail)
            return;
    }
    w->t.p[w->t.len++] = c;
}

/* The comma before a value, unless it follows a key or opens a container. */
static void
sep(struct api_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth])
            putc1(w, ',');
        w->first[w->depth] = false;
    }
}

/* Decimal digits of n at the end of buf; returns where they start. */
static char *
digits(char *end, unsigned long long n)
{
    do {
        *--end = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    return end;
}

void
api_jw_init(struct api_jw *w)
{
    memset(w, 0, sizeof(*w));
}

void
api_jw_fini(struct api_jw *w)
{
    free(w->t.p);
    memset(w, 0, sizeof(*w));
}

char *
api_jw_finish(struct api_jw *w, size_t *len)
{
    char *p;

    if (w->t.fail || w->depth != 0) {
        api_jw_fini(w);
        return NULL;
    }
    grow(w, 1);
    if (w->t.fail) {
        api_jw_fini(w);
        return NULL;
    }
    w->t.p[w->t.len] = '\0';
    p = w->t.p;
    *len = w->t.len;
    memset(w, 0, sizeof(*w));
    return p;
}

static void
open_container(struct api_jw *w, char c)
{
    sep(w);
    putc1(w, c);
    if (w->depth + 1 >= API_JW_DEPTH) {
        w->t.fail = true;
        return;
    }
    w->depth++;
    w->first[w->depth] = true;
}

void
api_jw_object(struct api_jw *w)
{
    open_container(w, '{');
}

void
api_jw_array(struct api_jw *w)
{
    open_container(w, '[');
}

void
api_jw_end_object(struct api_jw *w)
{
    putc1(w, '}');
    if (w->depth > 0)
        w->depth--;
}

void
api_jw_end_array(struct api_jw *w)
{
    putc1(w, ']');
    if (w->depth > 0)
        w->depth--;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned cp;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Bytes copied as they are: printable ASCII but '"' and '\\'. */
static const bool plain[256] = {
    [' '] = 1,  ['!'] = 1, ['#'] = 1, ['$'] = 1,  ['%'] = 1, ['&'] = 1,
    ['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1,  ['+'] = 1, [','] = 1,
    ['-'] = 1,  ['.'] = 1, ['/'] = 1, ['0'] = 1,  ['1'] = 1, ['2'] = 1,
    ['3'] = 1,  ['4'] = 1, ['5'] = 1, ['6'] = 1,  ['7'] = 1, ['8'] = 1,
    ['9'] = 1,  [':'] = 1, [';'] = 1, ['<'] = 1,  ['='] = 1, ['>'] = 1,
    ['?'] = 1,  ['@'] = 1, ['A'] = 1, ['B'] = 1,  ['C'] = 1, ['D'] = 1,
    ['E'] = 1,  ['F'] = 1, ['G'] = 1, ['H'] = 1,  ['I'] = 1, ['J'] = 1,
    ['K'] = 1,  ['L'] = 1, ['M'] = 1, ['N'] = 1,  ['O'] = 1, ['P'] = 1,
    ['Q'] = 1,  ['R'] = 1, ['S'] = 1, ['T'] = 1,  ['U'] = 1, ['V'] = 1,
    ['W'] = 1,  ['X'] = 1, ['Y'] = 1, ['Z'] = 1,  ['['] = 1, [']'] = 1,
    ['^'] = 1,  ['_'] = 1, ['`'] = 1, ['a'] = 1,  ['b'] = 1, ['c'] = 1,
    ['d'] = 1,  ['e'] = 1, ['f'] = 1, ['g'] = 1,  ['h'] = 1, ['i'] = 1,
    ['j'] = 1,  ['k'] = 1, ['l'] = 1, ['m'] = 1,  ['n'] = 1, ['o'] = 1,
    ['p'] = 1,  ['q'] = 1, ['r'] = 1, ['s'] = 1,  ['t'] = 1, ['u'] = 1,
    ['v'] = 1,  ['w'] = 1, ['x'] = 1, ['y'] = 1,  ['z'] = 1, ['{'] = 1,
    ['|'] = 1,  ['}'] = 1, ['~'] = 1, [0x7f] = 1,
};

/* Nonzero when one of the 8 bytes in x must not be copied as it is: a
 * control character, '"', '\\' or a byte of 0x80 and above (checked for
 * UTF-8). The classic "has a byte less than" tests: exact on whether any
 * byte qualifies, which is all the caller asks. */
static inline uint64_t
needs_escape8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t quote = x ^ (ones * '"');
    uint64_t bslash = x ^ (ones * '\\');

    return (((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
            ((bslash - ones) & ~bslash) | x) &
           high;
}

#if defined(__SSE2__)
/* needs_escape8() on 16 bytes at once. A signed "less than 0x20" also
 * catches every byte of 0x80 and above. */
static inline int
needs_escape16(const unsigned char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    __m128i c = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));

    return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}
#endif

/* The escaped bytes of s[0..n), without quotes. Names and sentences are
 * plain ASCII almost always: those go eight bytes at a time. */
static void
escaped(struct api_jw *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, start = 0;
    uint64_t x;

    grow(w, n + 2);
    while (i < n) {
        unsigned char c;
        char esc[8];
        size_t k;

#if defined(__SSE2__)
        if (n - i >= 16) {
            if (needs_escape16(p + i) == 0) {
                i += 16;
                continue;
            }
        } else if (n >= 16) {
            if (needs_escape16(p + n - 16) == 0) {
                i = n;
                break;
            }
        }
#endif
        if (n - i >= 8) {
            memcpy(&x, p + i, 8);
            if (needs_escape8(x) == 0) {
                i += 8;
                continue;
            }
        } else if (n >= 8) {
            /* The last bytes: the last eight of the string, which may look
             * again at some already copied (a dirty one there only sends
             * this tail the slow way). */
            memcpy(&x, p + n - 8, 8);
            if (needs_escape8(x) == 0) {
                i = n;
                break;
            }
        }
        c = p[i];
        if (plain[c]) {
            i++;
            continue;
        }
        put(w, s + start, i - start);
        if (c >= 0x80) {
            k = utf8_seq(p + i, n - i);
            if (k == 0) {
                put(w, "\xef\xbf\xbd", 3);
                i++;
            } else {
                put(w, s + i, k);
                i += k;
            }
            start = i;
            continue;
        }
        switch (c) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\b':
            put(w, "\\b", 2);
            break;
        case '\f':
            put(w, "\\f", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04X", c);
            put(w, esc, 6);
        }
        i++;
        start = i;
    }
    put(w, s + start, i - start);
}

void
api_jw_key(struct api_jw *w, const char *k)
{
    sep(w);
    putc1(w, '"');
    escaped(w, k, strlen(k));
    put(w, "\":", 2);
    w->after_key = true;
}

void
api_jw_key_plain(struct api_jw *w, const char *quoted, size_t len)
{
    sep(w);
    put(w, quoted, len);
    w->after_key = true;
}

void
api_jw_string(struct api_jw *w, const char *s)
{
    if (s == NULL)
        api_jw_null(w);
    else
        api_jw_string_n(w, s, strlen(s));
}

void
api_jw_string_n(struct api_jw *w, const char *s, size_t n)
{
    sep(w);
    putc1(w, '"');
    escaped(w, s, n);
    putc1(w, '"');
}

/* Whether s[0..n) can be copied into a JSON string as it is. Whole blocks,
 * then one last block that ends with the span (it may look again at bytes
 * already seen): a sentence costs a few vector compares, without a loop
 * over its last bytes. */
static bool
plain_span(const unsigned char *p, size_t n)
{
    size_t i = 0;
    uint64_t x;

#if defined(__SSE2__)
    if (n >= 16) {
        for (; n - i > 16; i += 16)
            if (needs_escape16(p + i) != 0)
                return false;
        return needs_escape16(p + n - 16) == 0;
    }
#endif
    if (n >= 8) {
        for (; n - i > 8; i += 8) {
            memcpy(&x, p + i, 8);
            if (needs_escape8(x) != 0)
                return false;
        }
        memcpy(&x, p + n - 8, 8);
        return needs_escape8(x) == 0;
    }
    for (; i < n; i++)
        if (!plain[p[i]])
            return false;
    return true;
}

bool
api_jw_is_plain(const char *s, size_t n)
{
    return plain_span((const unsigned char *)s, n);
}

struct np_text *
api_jw_text_begin(struct api_jw *w, size_t *start)
{
    sep(w);
    putc1(w, '"');
    *start = w->t.len;
    return &w->t;
}

void
api_jw_text_end(struct api_jw *w, size_t start)
{
    api_jw_text_escape(w, start);
    putc1(w, '"');
}

void
api_jw_text_escape(struct api_jw *w, size_t start)
{
    if (w->t.fail)
        return;
    if (!plain_span((const unsigned char *)w->t.p + start, w->t.len - start)) {
        /* Not seen with names Kubernetes accepts, but escaped all the
         * same: the bytes again, the way every string goes. */
        size_t n = w->t.len - start;
        char *copy = malloc(n + 1);

        if (copy == NULL) {
            w->t.fail = true;
            return;
        }
        memcpy(copy, w->t.p + start, n);
        w->t.len = start;
        escaped(w, copy, n);
        free(copy);
    }
}

void
api_jw_string_plain(struct api_jw *w, const char *s, size_t n)
{
    sep(w);
    putc1(w, '"');
    put(w, s, n);
    putc1(w, '"');
}

void
api_jw_text_end_plain(struct api_jw *w)
{
    putc1(w, '"');
}

void
api_jw_string_begin(struct api_jw *w)
{
    sep(w);
    putc1(w, '"');
}

void
api_jw_string_add(struct api_jw *w, const char *s)
{
    escaped(w, s, strlen(s));
}

void
api_jw_string_add_uint(struct api_jw *w, unsigned long long n)
{
    char buf[24];
    char *p = digits(buf + sizeof(buf), n);

    put(w, p, (size_t)(buf + sizeof(buf) - p));
}

void
api_jw_string_end(struct api_jw *w)
{
    putc1(w, '"');
}

void
api_jw_int(struct api_jw *w, long long n)
{
    char buf[24];
    char *p = digits(buf + sizeof(buf), n < 0 ? 0ULL - (unsigned long long)n
                                              : (unsigned long long)n);

    if (n < 0)
        *--p = '-';
    sep(w);
    put(w, p, (size_t)(buf + sizeof(buf) - p));
}

void
api_jw_bool(struct api_jw *w, bool b)
{
    sep(w);
    if (b)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void
api_jw_null(struct api_jw *w)
{
    sep(w);
    put(w, "null", 4);
}

void
api_jw_raw_key(struct api_jw *w, const char *text, size_t len)
{
    sep(w);
    put(w, text, len);
    w->after_key = true;
}

char *
api_jw_raw_key_begin(struct api_jw *w, size_t max)
{
    sep(w);
    grow(w, max + 1);
    if (w->t.fail)
        return NULL;
    return w->t.p + w->t.len;
}

void
api_jw_raw_key_end(struct api_jw *w, char *end)
{
    w->t.len = (size_t)(end - w->t.p);
    w->after_key = true;
}

void
api_jw_raw(struct api_jw *w, const char *text, size_t len)
{
    sep(w);
    put(w, text, len);
}
