/*
 * Reachability queries from what a client sends: a JSON object {"from",
 * "to", "port", "protocol"} or GET /reachability's query arguments, resolved
 * against one snapshot into a struct np_query. Endpoints are an existing pod
 * by namespace and name, a workload by namespace and "Kind/name" (its
 * template pod, core/workload.h), or an address (a pod's IP means that
 * pod). Ports are
 * numbers or container port names of the destination pod; protocols are
 * spelled as Kubernetes spells them. Evaluation and answers are elsewhere
 * (reach.c, encode.c).
 */
#include "api/internal.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/net.h"
#include "core/workload.h"

static const char *const query_fields[] = { "from", "to", "port", "protocol",
                                            NULL };
static const char *const endpoint_fields[] = { "namespace", "pod", "workload",
                                               "ip", NULL };

int
api_fields_check(const json_t *obj, const char *const *allowed,
                 const char *prefix, struct np_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v)
    {
        const char *const *a;

        for (a = allowed; *a != NULL; a++)
            if (strcmp(*a, key) == 0)
                break;
        if (*a != NULL)
            continue;
        np_error_set(err, NP_E_UNKNOWN_FIELD, "unknown field \"%.64s\"%s%s",
                     key, prefix[0] != '\0' ? " in " : "", prefix);
        return np_error_path(err, "%s%s%.64s", prefix,
                             prefix[0] != '\0' ? "." : "", key);
    }
    return 0;
}

/* A member of obj; JSON null counts as absent, as in Kubernetes objects. */
static const json_t *
member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_null(v) ? NULL : v;
}

static int
string_member(const json_t *obj, const char *key, const char *prefix,
              const char **out, struct np_error *err)
{
    const json_t *v = member(obj, key);

    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v)) {
        np_error_set(err, NP_E_INVALID_TYPE, "%s.%s must be a string", prefix,
                     key);
        return np_error_path(err, "%s.%s", prefix, key);
    }
    *out = json_string_value(v);
    return 0;
}

static int
pod_endpoint(const struct np_snapshot *snap, const char *ns, const char *name,
             const char *path, struct np_endpoint *out, struct np_error *err)
{
    memset(out, 0, sizeof(*out));
    out->pod = np_snapshot_find_pod(snap, ns, name);
    if (out->pod != NULL)
        return 0;
    if (np_snapshot_find_namespace(snap, ns) == NULL)
        np_error_set(err, NP_E_UNKNOWN_POD,
                     "%s: no pod %.63s/%.200s: namespace %.63s does not exist",
                     path, ns, name, ns);
    else
        np_error_set(err, NP_E_UNKNOWN_POD,
                     "%s: no pod %.200s in namespace %.63s", path, name, ns);
    return np_error_path(err, "%s", path);
}

/* ref is "Kind/name", the kind spelled as in Kubernetes. A bad kind is the
 * caller's mistake (400); a well-formed reference to nothing is 404. */
static int
workload_endpoint(const struct np_snapshot *snap, const char *ns,
                  const char *ref, const char *path, struct np_endpoint *out,
                  struct np_error *err)
{
    const char *slash = strchr(ref, '/');
    char kind[64];

    memset(out, 0, sizeof(*out));
    if (slash == NULL || slash == ref || slash[1] == '\0' ||
        strchr(slash + 1, '/') != NULL) {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "%s: workload \"%.200s\" is not Kind/name, such as "
                     "Deployment/frontend",
                     path, ref);
        return np_error_path(err, "%s", path);
    }
    snprintf(kind, sizeof(kind), "%.*s", (int)(slash - ref), ref);
    if (!np_workload_kind_is_valid(kind)) {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "%s: \"%.60s\" is not a workload kind: use %s (kinds "
                     "are case-sensitive)",
                     path, kind, np_workload_kinds_text());
        return np_error_path(err, "%s", path);
    }
    out->pod = np_snapshot_find_workload(snap, ns, kind, slash + 1);
    if (out->pod != NULL)
        return 0;
    np_error_set(err, NP_E_UNKNOWN_WORKLOAD,
                 "%s: no workload %s/%.200s in namespace %.63s%s", path, kind,
                 slash + 1, ns,
                 np_snapshot_find_namespace(snap, ns) == NULL
                     ? " (the namespace does not exist)"
                     : "");
    return np_error_path(err, "%s", path);
}

static int
ip_endpoint(const struct np_snapshot *snap, const char *s, const char *path,
            struct np_endpoint *out, struct np_error *err)
{
    struct np_ip ip;

    if (np_ip_parse(s, &ip, err) != 0)
        return np_error_path(err, "%s", path);
    np_endpoint_from_ip(snap, &ip, out);
    return 0;
}

/* path is "from" or "to". */
static int
endpoint_decode(const struct np_snapshot *snap, const json_t *v,
                const char *path, struct np_endpoint *out, struct np_error *err)
{
    const char *ns, *pod, *ip, *workload;
    char ippath[16], wpath[24];

    if (v == NULL) {
        np_error_set(err, NP_E_MISSING_FIELD,
                     "%s is missing: give {\"namespace\", \"pod\"}, "
                     "{\"namespace\", \"workload\"} or {\"ip\"}",
                     path);
        return np_error_path(err, "%s", path);
    }
    if (!json_is_object(v)) {
        np_error_set(err, NP_E_INVALID_TYPE,
                     "%s must be an object {\"namespace\", \"pod\"}, "
                     "{\"namespace\", \"workload\"} or {\"ip\"}",
                     path);
        return np_error_path(err, "%s", path);
    }
    if (api_fields_check(v, endpoint_fields, path, err) != 0 ||
        string_member(v, "namespace", path, &ns, err) != 0 ||
        string_member(v, "pod", path, &pod, err) != 0 ||
        string_member(v, "workload", path, &workload, err) != 0 ||
        string_member(v, "ip", path, &ip, err) != 0)
        return -1;
    if (workload != NULL && (ip != NULL || pod != NULL)) {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "%s gives a workload and %s; give one of them", path,
                     ip != NULL ? "an ip" : "a pod");
        return np_error_path(err, "%s", path);
    }
    if (workload != NULL) {
        if (ns == NULL) {
            np_error_set(err, NP_E_MISSING_FIELD,
                         "%s.namespace is missing: a workload is named by "
                         "namespace and Kind/name",
                         path);
            return np_error_path(err, "%s.namespace", path);
        }
        snprintf(wpath, sizeof(wpath), "%s.workload", path);
        return workload_endpoint(snap, ns, workload, wpath, out, err);
    }
    if (ip != NULL) {
        if (ns != NULL || pod != NULL) {
            np_error_set(err, NP_E_INVALID_VALUE,
                         "%s gives both an ip and a pod; give one of them",
                         path);
            return np_error_path(err, "%s", path);
        }
        snprintf(ippath, sizeof(ippath), "%s.ip", path);
        return ip_endpoint(snap, ip, ippath, out, err);
    }
    if (pod == NULL) {
        np_error_set(err, NP_E_MISSING_FIELD,
                     "%s.pod is missing: give {\"namespace\", \"pod\"}, "
                     "{\"namespace\", \"workload\"} or {\"ip\"}",
                     path);
        return np_error_path(err, "%s.pod", path);
    }
    if (ns == NULL) {
        np_error_set(err, NP_E_MISSING_FIELD,
                     "%s.namespace is missing: a pod is named by namespace "
                     "and name",
                     path);
        return np_error_path(err, "%s.namespace", path);
    }
    return pod_endpoint(snap, ns, pod, path, out, err);
}

/* GET form: "NAMESPACE/POD", "NAMESPACE/KIND/NAME" (a workload) or an
 * address. */
static int
endpoint_parse(const struct np_snapshot *snap, const char *s, const char *path,
               struct np_endpoint *out, struct np_error *err)
{
    const char *slash;
    struct np_error ipe;
    struct np_ip ip;
    char ns[256];

    if (s == NULL) {
        np_error_set(err, NP_E_MISSING_FIELD,
                     "query argument %s is missing: give NAMESPACE/POD or "
                     "an IP address",
                     path);
        return np_error_path(err, "%s", path);
    }
    slash = strchr(s, '/');
    if (slash != NULL && slash != s && (size_t)(slash - s) < sizeof(ns) &&
        strchr(slash + 1, '/') != NULL) {
        memcpy(ns, s, (size_t)(slash - s));
        ns[slash - s] = '\0';
        return workload_endpoint(snap, ns, slash + 1, path, out, err);
    }
    if (slash != NULL) {
        if (slash == s || slash[1] == '\0' || strchr(slash + 1, '/') != NULL ||
            (size_t)(slash - s) >= sizeof(ns)) {
            np_error_set(err, NP_E_INVALID_VALUE,
                         "%s=\"%.200s\" is not NAMESPACE/POD", path, s);
            return np_error_path(err, "%s", path);
        }
        memcpy(ns, s, (size_t)(slash - s));
        ns[slash - s] = '\0';
        return pod_endpoint(snap, ns, slash + 1, path, out, err);
    }
    np_error_init(&ipe);
    if (np_ip_parse(s, &ip, &ipe) != 0) {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "%s=\"%.100s\" is neither NAMESPACE/POD nor an IP "
                     "address (%s)",
                     path, s, ipe.message);
        return np_error_path(err, "%s", path);
    }
    np_endpoint_from_ip(snap, &ip, out);
    return 0;
}

static int
protocol_parse(const char *s, struct api_query *out, struct np_error *err)
{
    if (np_proto_parse(s, &out->q.proto, err) != 0)
        return np_error_path(err, "protocol");
    out->proto_given = true;
    return 0;
}

/* The same message for a number in JSON and in text, so that the GET and
 * POST forms answer alike. */
static int
port_number(unsigned long long n, struct api_query *out, struct np_error *err)
{
    if (n < 1 || n > 65535) {
        np_error_set(err, NP_E_INVALID_PORT,
                     "port %llu is out of range: ports are 1-65535", n);
        return np_error_path(err, "port");
    }
    out->q.port = (uint16_t)n;
    return 0;
}

/* A port given as text: digits are a number, anything else a container port
 * name on the destination pod. */
static int
port_parse(const struct np_snapshot *snap, const char *s, struct api_query *out,
           struct np_error *err)
{
    const struct np_pod *dst = out->q.to.pod;
    uint32_t n;

    if (s[0] >= '0' && s[0] <= '9') {
        if (np_parse_u32(s, 0, UINT32_MAX, &n) != 0) {
            np_error_set(err, NP_E_INVALID_PORT,
                         "port \"%.32s\" is not a number between 1 and 65535",
                         s);
            return np_error_path(err, "port");
        }
        return port_number(n, out, err);
    }
    if (!np_port_name_is_valid(s)) {
        np_error_set(err, NP_E_INVALID_PORT,
                     "port \"%.32s\" is neither a number between 1 and 65535 "
                     "nor a port name (1-15 lowercase letters, digits and "
                     "'-')",
                     s);
        return np_error_path(err, "port");
    }
    if (dst == NULL) {
        np_error_set(err, NP_E_INVALID_PORT,
                     "port name \"%s\" needs a pod destination to resolve "
                     "it; the destination is outside the cluster, give a "
                     "number",
                     s);
        return np_error_path(err, "port");
    }
    if (np_pod_resolve_port(snap, dst, s, out->proto_given, &out->q.proto,
                            &out->q.port, err) != 0)
        return np_error_path(err, "port");
    snprintf(out->port_name, sizeof(out->port_name), "%s", s);
    return 0;
}

static int
port_decode(const struct np_snapshot *snap, const json_t *v,
            struct api_query *out, struct np_error *err)
{
    json_int_t n;

    if (v == NULL) {
        np_error_set(err, NP_E_MISSING_FIELD,
                     "port is missing: give a number or a port name");
        return np_error_path(err, "port");
    }
    if (json_is_string(v))
        return port_parse(snap, json_string_value(v), out, err);
    if (!json_is_integer(v)) {
        np_error_set(err, NP_E_INVALID_TYPE,
                     "port must be an integer between 1 and 65535 or a port "
                     "name");
        return np_error_path(err, "port");
    }
    n = json_integer_value(v);
    if (n < 0) {
        np_error_set(err, NP_E_INVALID_PORT,
                     "port %" JSON_INTEGER_FORMAT
                     " is out of range: ports are 1-65535",
                     n);
        return np_error_path(err, "port");
    }
    return port_number((unsigned long long)n, out, err);
}

int
api_query_decode(const struct np_snapshot *snap, const json_t *obj,
                 struct api_query *out, struct np_error *err)
{
    const json_t *proto;

    memset(out, 0, sizeof(*out));
    out->q.proto = NP_PROTO_TCP;
    if (!json_is_object(obj)) {
        np_error_set(err, NP_E_INVALID_TYPE,
                     "a query must be an object {\"from\", \"to\", \"port\", "
                     "\"protocol\"}");
        return -1;
    }
    if (api_fields_check(obj, query_fields, "", err) != 0)
        return -1;
    proto = member(obj, "protocol");
    if (proto != NULL && !json_is_string(proto)) {
        np_error_set(err, NP_E_INVALID_TYPE,
                     "protocol must be a string: TCP, UDP or SCTP");
        return np_error_path(err, "protocol");
    }
    if (proto != NULL && protocol_parse(json_string_value(proto), out, err))
        return -1;
    if (endpoint_decode(snap, member(obj, "from"), "from", &out->q.from, err) !=
            0 ||
        endpoint_decode(snap, member(obj, "to"), "to", &out->q.to, err) != 0)
        return -1;
    return port_decode(snap, member(obj, "port"), out, err);
}

int
api_query_from_args(const struct np_snapshot *snap,
                    const struct api_request *req, struct api_query *out,
                    struct np_error *err)
{
    const char *proto = api_query_get(req, "protocol");
    const char *port = api_query_get(req, "port");

    memset(out, 0, sizeof(*out));
    out->q.proto = NP_PROTO_TCP;
    if (proto != NULL && protocol_parse(proto, out, err) != 0)
        return -1;
    if (endpoint_parse(snap, api_query_get(req, "from"), "from", &out->q.from,
                       err) != 0 ||
        endpoint_parse(snap, api_query_get(req, "to"), "to", &out->q.to, err) !=
            0)
        return -1;
    if (port == NULL || port[0] == '\0') {
        np_error_set(err, NP_E_MISSING_FIELD,
                     "query argument port is missing: give a number or a "
                     "port name");
        return np_error_path(err, "port");
    }
    return port_parse(snap, port, out, err);
}
