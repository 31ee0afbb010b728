#!/usr/bin/env python3
"""A read-only stand-in for a Kubernetes API server, so that a real kubectl
can print `kubectl get ... -o yaml|json` for a cluster that does not exist.

It answers API discovery (/version, /api, /apis and one resource list per
group version) and the cluster-wide list of namespaces, pods,
networkpolicies and deployments, with the objects in cluster.json as a
real API server stores them (items without kind and apiVersion, which
kubectl fills in). Everything else is 404. It listens on 127.0.0.1 only.

    python3 fake-apiserver.py 18999 &
    kubectl --server http://127.0.0.1:18999 \\
        get namespaces,pods,networkpolicies,deployments -A -o yaml

See README.md beside this file for the commands that made each file here.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "cluster.json")) as f:
    CLUSTER = json.load(f)

# resource -> (group version, kind, namespaced, short names)
RESOURCES = {
    "namespaces": ("v1", "Namespace", False, ["ns"]),
    "pods": ("v1", "Pod", True, ["po"]),
    "networkpolicies": ("networking.k8s.io/v1", "NetworkPolicy", True, ["netpol"]),
    "deployments": ("apps/v1", "Deployment", True, ["deploy"]),
}
LIST_RESOURCE_VERSION = "2043"


def resource_list(group_version):
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {
                "name": name,
                "singularName": kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
                "shortNames": short,
            }
            for name, (gv, kind, namespaced, short) in RESOURCES.items()
            if gv == group_version
        ],
    }


def group(name):
    gv = {"groupVersion": name + "/v1", "version": "v1"}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


def answer(path):
    if path == "/version":
        return {"major": "1", "minor": "31", "gitVersion": "v1.31.2",
                "platform": "linux/amd64"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "172.18.0.2:6443"}]}
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [group("apps"), group("networking.k8s.io")]}
    if path == "/api/v1":
        return resource_list("v1")
    if path.startswith("/apis/") and path.count("/") == 3:
        return resource_list(path[len("/apis/"):])
    for name, (gv, kind, _, _) in RESOURCES.items():
        prefix = "/api/v1" if gv == "v1" else "/apis/" + gv
        if path == prefix + "/" + name:
            return {"kind": kind + "List", "apiVersion": gv,
                    "metadata": {"resourceVersion": LIST_RESOURCE_VERSION},
                    "items": CLUSTER[name]}
    return None


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = answer(self.path.split("?", 1)[0])
        if body is None:
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "reason": "NotFound", "code": 404}
        data = json.dumps(body).encode()
        self.send_response(body.get("code", 200))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
