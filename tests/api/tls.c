/*
 * HTTPS against the binary (--tls-cert, --tls-key). Each test makes a
 * self-signed certificate for localhost with the openssl command (skipped,
 * saying so, when it is missing), starts netpolq with it, and talks to
 * https://localhost:PORT with curl verifying the chain and the host name
 * against that certificate. Plain HTTP to the TLS port gets no answer, a
 * client that trusts another certificate refuses the server, tokens work
 * over TLS, and unusable certificate files stop the start.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/http_auth.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

static char dir[64];
static char cert[128], key[128];
static char base[96];
static char resolve[96];

/* Makes a self-signed certificate and key for localhost and 127.0.0.1 in
 * dir: prefix.crt and prefix.key. */
static void
make_cert(const char *prefix)
{
    char cmd[1024];
    int rc;

    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 1 "
             "-keyout %s/%s.key -out %s/%s.crt >%s/openssl.log 2>&1",
             dir, prefix, dir, prefix, dir);
    rc = system(cmd);
    cr_assert_eq(rc, 0, "openssl req failed (%d); see %s/openssl.log", rc, dir);
}

static void
setup(void)
{
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        cr_skip_test("the openssl command is not installed: it makes the "
                     "test certificate (apt-get install openssl)");
    snprintf(dir, sizeof(dir), "/tmp/netpolq-tls-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    make_cert("server");
    snprintf(cert, sizeof(cert), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
}

static void
teardown(void)
{
    static const char *const files[] = { "server.crt",  "server.key",
                                         "other.crt",   "other.key",
                                         "openssl.log", "tokens",
                                         "garbage.pem" };
    char path[192];
    size_t i;

    tsrv_stop(&tsuite_srv);
    if (dir[0] == '\0')
        return;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    dir[0] = '\0';
}

TestSuite(tls, .init = setup, .fini = teardown);

static void
start_tls(const char *token_file)
{
    const char *args[] = { "--tls-cert",
                           cert,
                           "--tls-key",
                           key,
                           token_file != NULL ? "--token-file" : NULL,
                           token_file,
                           NULL };

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0,
                 "netpolq did not start with TLS");
    snprintf(base, sizeof(base), "https://localhost:%u", tsuite_srv.port);
    snprintf(resolve, sizeof(resolve), "localhost:%u:127.0.0.1",
             tsuite_srv.port);
}

/* Sends a request over HTTPS trusting ca; returns 0 when an answer came. */
static int
https(const char *method, const char *path, const char *body, const char *auth,
      const char *ca, struct thttp_resp *r)
{
    struct thttp_auth_req req = {
        .method = method,
        .path = path,
        .content_type = body != NULL ? "application/json" : NULL,
        .body = body,
        .len = body != NULL ? strlen(body) : 0,
        .authorization = auth,
        .cainfo = ca,
        .resolve = resolve,
    };
    char www[256];

    return thttp_auth_request(base, &req, r, www);
}

Test(tls, serves_https_that_verifies_against_its_certificate)
{
    static const char pods[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
        "\"a\",\"namespace\":\"x\"},\"status\":{\"podIP\":\"10.0.0.1\"}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
        "\"b\",\"namespace\":\"x\"},\"status\":{\"podIP\":\"10.0.0.2\"}}]}";
    static const char query[] =
        "{\"from\":{\"namespace\":\"x\",\"pod\":\"a\"},"
        "\"to\":{\"namespace\":\"x\",\"pod\":\"b\"},\"port\":80}";
    struct thttp_resp r;

    start_tls(NULL);
    cr_assert(tsrv_log_contains(&tsuite_srv, "listening on https://"),
              "the readiness line does not say https://");
    cr_assert_eq(https("GET", "/healthz", NULL, NULL, cert, &r), 0, "%s",
                 r.body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(https("PUT", "/state", pods, NULL, cert, &r), 0, "%s", r.body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(https("POST", "/reachability", query, NULL, cert, &r), 0, "%s",
                 r.body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(json_is_true(json_object_get(r.json, "allowed")), "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(tls, plain_http_to_the_tls_port_gets_no_answer)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    struct thttp_resp r;
    int rc;

    start_tls(NULL);
    rc = thttp_raw(tsuite_srv.port, req, sizeof(req) - 1, &r);
    cr_assert(rc != 0 || r.status != 200,
              "plain HTTP was answered %ld on the TLS port", r.status);
    thttp_resp_fini(&r);
    rc = thttp_get(tsuite_srv.base, "/healthz", &r);
    cr_assert(rc != 0 || r.status != 200,
              "curl got %ld over plain HTTP from the TLS port", r.status);
    thttp_resp_fini(&r);
    /* The server is unharmed. */
    cr_assert_eq(https("GET", "/healthz", NULL, NULL, cert, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(tls, a_client_trusting_another_certificate_refuses_the_server)
{
    char other[128];
    struct thttp_resp r;

    make_cert("other");
    snprintf(other, sizeof(other), "%s/other.crt", dir);
    start_tls(NULL);
    cr_assert_neq(https("GET", "/healthz", NULL, NULL, other, &r), 0,
                  "verification passed against the wrong certificate");
    cr_assert_eq(r.status, 0);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(tls, tokens_work_over_tls)
{
    char tokens[128];
    struct thttp_resp r;
    FILE *f;

    snprintf(tokens, sizeof(tokens), "%s/tokens", dir);
    f = fopen(tokens, "w");
    cr_assert_not_null(f);
    fputs("s3cret-over-tls\n", f);
    cr_assert_eq(fclose(f), 0);
    start_tls(tokens);
    cr_assert_eq(https("GET", "/state", NULL, NULL, cert, &r), 0);
    cr_assert_eq(r.status, 401, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(
        https("GET", "/state", NULL, "Bearer s3cret-over-tls", cert, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert(tsrv_log_contains(&tsuite_srv, "tokens for all calls"));
    tsuite_assert_exit_0();
}

Test(tls, unusable_certificate_files_stop_the_start)
{
    char garbage[128];
    char missing[128];
    struct tsrv_output out;
    FILE *f;
    const char *args[] = { "--listen",  "127.0.0.1:1", "--tls-cert", NULL,
                           "--tls-key", NULL,          NULL };

    snprintf(missing, sizeof(missing), "%s/missing.crt", dir);
    args[3] = missing;
    args[5] = key;
    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 1, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, missing) != NULL, "%s", out.err);
    tsrv_output_fini(&out);

    snprintf(garbage, sizeof(garbage), "%s/garbage.pem", dir);
    f = fopen(garbage, "w");
    cr_assert_not_null(f);
    fputs("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
          f);
    cr_assert_eq(fclose(f), 0);
    args[3] = cert;
    args[5] = garbage;
    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 1, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, "TLS") != NULL, "%s", out.err);
    cr_assert(strstr(out.err, "not a key") == NULL,
              "the key's text in the message: %s", out.err);
    tsrv_output_fini(&out);

    /* A certificate and a key that do not belong together. */
    make_cert("other");
    snprintf(garbage, sizeof(garbage), "%s/other.key", dir);
    args[5] = garbage;
    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 1, "status %d: %s", out.status, out.err);
    tsrv_output_fini(&out);
}
