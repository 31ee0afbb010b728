#!/usr/bin/env node
// Checks the running server's answers against openapi.yaml.
//
// Usage: node validate.mjs NETPOLQ_BIN [OPENAPI_YAML]
//
// Starts NETPOLQ_BIN on 127.0.0.1 and a free port with the walkthrough
// loaded, sends valid and invalid requests to every route, and validates
// each answer against what openapi.yaml declares for its path, method and
// status: the status must be documented, the media type must be one the
// response lists, and the body must match the response's schema (OpenAPI
// 3.1 schemas are JSON Schema 2020-12, checked with Ajv). A path the
// document lacks must answer 404, and a method it lacks 405 with an Allow
// header naming exactly the documented methods; both with the Error schema.
// Every documented operation must have been exercised with at least one
// success and one client error. Prints every mismatch and exits 1 if there
// is any, 0 otherwise; NETPOLQ_TEST_VERBOSE=1 also prints every answer.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const bin = process.argv[2];
const specPath = process.argv[3] ?? path.join(root, 'openapi.yaml');
const walkthrough = path.join(root, 'examples', 'walkthrough');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

if (!bin) {
  console.error('usage: node validate.mjs NETPOLQ_BIN [OPENAPI_YAML]');
  process.exit(2);
}

// --- the document ----------------------------------------------------------

const specText = readFileSync(specPath, 'utf8');
const spec = YAML.parse(specText);
const SPEC_ID = 'https://netpolq.invalid/openapi.yaml';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(spec, SPEC_ID);

function pointerSegment(s) {
  return encodeURIComponent(String(s).replace(/~/g, '~0').replace(/\//g, '~1'));
}

function pointer(segments) {
  return '#/' + segments.map(pointerSegment).join('/');
}

// Follows a local $ref (components/responses, parameters); returns the
// object and the segments of where it lives.
function deref(obj, segments) {
  let seen = 0;
  while (obj && typeof obj.$ref === 'string') {
    if (!obj.$ref.startsWith('#/') || ++seen > 16)
      throw new Error(`unsupported $ref ${obj.$ref}`);
    segments = obj.$ref
      .slice(2)
      .split('/')
      .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'));
    obj = segments.reduce((o, k) => (o == null ? undefined : o[k]), spec);
  }
  return [obj, segments];
}

const validators = new Map();
function validatorFor(segments) {
  const key = pointer(segments);
  if (!validators.has(key))
    validators.set(key, ajv.compile({ $ref: SPEC_ID + key }));
  return validators.get(key);
}

// The paths of the document as patterns, most literal segments first.
const templates = Object.keys(spec.paths ?? {})
  .map((t) => {
    const parts = t.split('/').slice(1);
    const re = new RegExp(
      '^/' +
        parts
          .map((p) => (/^\{.*\}$/.test(p) ? '[^/]+' : p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
          .join('/') +
        '$',
    );
    return { template: t, re, literal: parts.filter((p) => !p.startsWith('{')).length };
  })
  .sort((a, b) => b.literal - a.literal);

function findTemplate(p) {
  const hit = templates.find((t) => t.re.test(p));
  return hit ? hit.template : null;
}

function documentedMethods(template) {
  const item = spec.paths[template];
  return METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
}

// --- the server ------------------------------------------------------------

// Port 0: the kernel picks a free port and the readiness line names it, so
// no other test can take it between choosing and binding.
async function startServer() {
  const child = spawn(
    bin,
    ['--listen', '127.0.0.1:0', '--load', walkthrough, '--max-body', '1048576'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  let port = 0;
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no readiness line in 10 s:\n${log}`)), 10000);
    child.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/listening on https?:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        port = Number(m[1]);
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`netpolq exited with ${code} before listening:\n${log}`));
    });
  });
  return { port, child, exited, log: () => log };
}

// A body over 64 KiB is sent after "Expect: 100-continue", as curl does: a
// server refusing it (413 before reading) answers at once, and the client
// does not race the connection's close with a write of the whole body.
function request(port, method, p, { body, contentType } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    let data;
    if (body !== undefined) {
      data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = data.length;
    }
    const expect = data !== undefined && data.length > 65536;
    if (expect) headers.Expect = '100-continue';
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${p}: timeout`)));
    req.on('error', reject);
    if (expect) {
      req.on('continue', () => req.end(data));
    } else {
      if (data) req.write(data);
      req.end();
    }
  });
}

// --- checking one answer ---------------------------------------------------

const mismatches = [];
const exercised = new Map(); // "METHOD template" -> Set of status classes
let checked = 0;

function mismatch(what, detail) {
  mismatches.push(`${what}: ${detail}`);
  console.log(`MISMATCH ${what}: ${detail}`);
}

function validateBody(what, segments, mediaType, text) {
  let value = text;
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      value = JSON.parse(text);
    } catch (e) {
      mismatch(what, `the body is not JSON (${e.message}): ${text.slice(0, 200)}`);
      return;
    }
  }
  const validate = validatorFor(segments);
  if (!validate(value)) {
    const errs = validate.errors
      .slice(0, 8)
      .map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`)
      .join('; ');
    mismatch(what, `body does not match ${pointer(segments)}: ${errs}\n    body: ${text.slice(0, 400)}`);
  }
}

function errorSchemaSegments() {
  return ['components', 'schemas', 'Error'];
}

const verbose = process.env.NETPOLQ_TEST_VERBOSE === '1';

function check(method, target, res) {
  const p = target.split('?')[0];
  const what = `${method} ${target} -> ${res.status}`;
  if (verbose) console.log(`${what} ${res.body.slice(0, 160)}`);
  const template = findTemplate(p);
  const mediaType = (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  checked++;
  if (res.status >= 500) mismatch(what, `a server fault: ${res.body.slice(0, 300)}`);
  if (template === null) {
    if (res.status !== 404) mismatch(what, 'a path openapi.yaml does not describe answered other than 404');
    if (mediaType !== 'application/json') mismatch(what, `Content-Type ${mediaType} is not application/json`);
    else validateBody(what, errorSchemaSegments(), mediaType, res.body);
    return;
  }
  const lower = method === 'HEAD' ? 'get' : method.toLowerCase();
  const opSegments = ['paths', template, lower];
  const op = spec.paths[template][lower];
  if (!op) {
    if (res.status !== 405) {
      mismatch(what, `${method} is not documented for ${template} but answered ${res.status}`);
      return;
    }
    const allow = (res.headers.allow ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && s !== 'HEAD')
      .sort();
    const want = documentedMethods(template).sort();
    if (allow.join(',') !== want.join(','))
      mismatch(what, `Allow is "${res.headers.allow ?? ''}", openapi.yaml documents ${want.join(', ')}`);
    validateBody(what, errorSchemaSegments(), mediaType, res.body);
    return;
  }
  const key = `${method === 'HEAD' ? 'GET' : method} ${template}`;
  if (!exercised.has(key)) exercised.set(key, new Set());
  exercised.get(key).add(Math.floor(res.status / 100));
  const responses = op.responses ?? {};
  const code = String(res.status);
  const codeKey = [code, `${code[0]}XX`, `${code[0]}xx`, 'default'].find((k) => k in responses);
  if (codeKey === undefined) {
    mismatch(what, `status ${code} is not documented for ${method} ${template}: ${res.body.slice(0, 300)}`);
    return;
  }
  const [response, respSegments] = deref(responses[codeKey], [...opSegments, 'responses', codeKey]);
  if (method === 'HEAD') {
    if (res.body.length !== 0) mismatch(what, 'HEAD answered a body');
    return;
  }
  const content = response?.content;
  if (!content) {
    if (res.body.length !== 0) mismatch(what, `the response has no content in openapi.yaml but a body: ${res.body.slice(0, 200)}`);
    return;
  }
  if (!(mediaType in content)) {
    mismatch(what, `Content-Type ${mediaType || '(none)'} is not among ${Object.keys(content).join(', ')}`);
    return;
  }
  if (content[mediaType].schema === undefined) return;
  validateBody(what, [...respSegments, 'content', mediaType, 'schema'], mediaType, res.body);
}

// --- the requests ------------------------------------------------------------

const walkthroughYaml = ['01-cluster.yaml', '02-default-deny-ingress.yaml', '03-allow-client-ingress.yaml',
  '04-default-deny-egress.yaml', '05-allow-egress-to-server.yaml']
  .map((f) => readFileSync(path.join(walkthrough, f), 'utf8'))
  .join('\n---\n');

// Objects that exercise the optional fields of the answers: a hostNetwork
// pod with a node address, owners, IPv6 and named ports of every protocol.
const extras = `apiVersion: v1
kind: Namespace
metadata:
  name: extra
  labels: {team: cteam}
---
apiVersion: v1
kind: Pod
metadata:
  name: host-agent
  namespace: extra
  labels: {app: agent}
spec:
  hostNetwork: true
  containers: [{name: agent, ports: [{containerPort: 9100, name: metrics}]}]
status: {hostIP: 192.168.10.5, podIP: 192.168.10.5, phase: Running}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7d9-abcde
  namespace: extra
  labels: {app: web}
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9, uid: 1}
spec:
  containers:
  - name: web
    ports:
    - {containerPort: 80, name: http}
    - {containerPort: 53, name: dns, protocol: UDP}
    - {containerPort: 7777, name: sig, protocol: SCTP}
status:
  podIP: 10.1.3.30
  podIPs: [{ip: 10.1.3.30}, {ip: 'fd00::30'}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: extra}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - ipBlock: {cidr: 'fd00::/64', except: ['fd00::20/128']}
    - namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [bteam]}]}
    ports: [{port: 80}, {port: dns, protocol: UDP}, {port: 7000, endPort: 8000, protocol: SCTP}]
  egress:
  - {}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: extra}
spec: {ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: extra}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, ports: [{containerPort: 80, name: http}]}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-7d9
  namespace: extra
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, ports: [{containerPort: 80, name: http}]}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: extra}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {hostNetwork: true, containers: [{name: agent}]}
`;

const q = (from, to, port, protocol) => ({ from, to, port, ...(protocol ? { protocol } : {}) });
const client = { namespace: 'test-b', pod: 'client-pod' };
const server = { namespace: 'test-a', pod: 'server-pod' };
const web = { namespace: 'extra', pod: 'web-7d9-abcde' };
const agent = { namespace: 'extra', pod: 'host-agent' };
const webDeploy = { namespace: 'extra', workload: 'Deployment/web' };
const agentSet = { namespace: 'extra', workload: 'DaemonSet/agent' };

// [method, target, options]
const requests = [
  // The service endpoints.
  ['GET', '/healthz'],
  ['HEAD', '/healthz'],
  ['GET', '/healthz?verbose=1'],
  ['DELETE', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/readyz?x'],
  ['GET', '/openapi.yaml'],
  ['GET', '/openapi.yaml?x=1'],
  ['GET', '/metrics'],
  ['GET', '/metrics?x=1'],
  ['GET', '/no/such/path'],
  ['GET', '/state/..'],

  // Applying objects, and failing to.
  ['GET', '/state'],
  ['GET', '/state?x=1'],
  ['POST', '/state', { body: extras, contentType: 'application/yaml' }],
  ['POST', '/state', { body: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: "a/b"}\n', contentType: 'application/yaml' }],
  ['POST', '/state', {
    body: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\n' +
      'spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/33}\n',
    contentType: 'application/yaml',
  }],
  ['POST', '/state', { body: '{"apiVersion":"v1","kind":', contentType: 'application/json' }],
  ['POST', '/state', { body: 'x', contentType: 'text/plain' }],
  ['PUT', '/state', { body: '#'.repeat(2 << 20), contentType: 'application/yaml' }],
  ['PATCH', '/state', { body: '{}' }],
  ['TRACE', '/state'],

  // Queries.
  ['POST', '/reachability', { body: q(client, server, 80, 'TCP') }],
  ['POST', '/reachability', { body: q(client, server, 'http') }],
  ['POST', '/reachability', { body: q({ ip: '10.1.2.20' }, { ip: '10.1.1.10' }, 80) }],
  ['POST', '/reachability', { body: q({ ip: '2001:db8::1' }, server, 80) }],
  ['POST', '/reachability', { body: q(client, { ip: '203.0.113.9' }, 443) }],
  ['POST', '/reachability', { body: q({ ip: 'fd00::20' }, web, 80) }],
  ['POST', '/reachability', { body: q(client, web, 'dns') }],
  ['POST', '/reachability', { body: q(client, web, 7500, 'SCTP') }],
  ['POST', '/reachability', { body: q(agent, web, 80) }],
  ['POST', '/reachability', { body: q(web, agent, 'metrics') }],
  ['POST', '/reachability', { body: q(web, web, 80) }],
  ['POST', '/reachability', { body: q(client, webDeploy, 'http') }],
  ['POST', '/reachability', { body: q(agentSet, webDeploy, 80) }],
  ['POST', '/reachability', { body: q(webDeploy, { namespace: 'extra', workload: 'Deployment/nope' }, 80) }],
  ['POST', '/reachability', { body: q(webDeploy, { namespace: 'extra', workload: 'deployment/web' }, 80) }],
  ['GET', '/reachability?from=extra/DaemonSet/agent&to=extra/Deployment/web&port=http'],
  ['POST', '/reachability', { body: q(client, { namespace: 'test-a', pod: 'nope' }, 80) }],
  ['POST', '/reachability', { body: q(client, server, 0) }],
  ['POST', '/reachability', { body: q(client, server, 'https') }],
  ['POST', '/reachability', { body: q(client, server, 80, 'tcp') }],
  ['POST', '/reachability', { body: { ...q(client, server, 80), zone: 'a' } }],
  ['POST', '/reachability', { body: '{"from":' }],
  ['POST', '/reachability', { body: 'from=a', contentType: 'text/plain' }],
  ['GET', '/reachability?from=test-b/client-pod&to=test-a/server-pod&port=80'],
  ['GET', '/reachability?from=203.0.113.7&to=test-a/server-pod&port=http&protocol=TCP'],
  ['GET', '/reachability?from=test-b/client-pod&to=test-a/nope&port=80'],
  ['GET', '/reachability?from=test-b/client-pod&to=test-a/server-pod'],
  ['GET', '/reachability?from=test-b/client-pod&to=test-a/server-pod&port=80&verbose=1'],
  ['HEAD', '/reachability?from=test-b/client-pod&to=test-a/server-pod&port=80'],
  ['POST', '/reachability/batch', {
    body: { queries: [q(client, server, 80), q(client, { namespace: 'test-a', pod: 'nope' }, 80), q(client, server, 0)] },
  }],
  ['POST', '/reachability/batch', { body: { trace: false, queries: [q(client, server, 80), q({ ip: '8.8.8.8' }, web, 80)] } }],
  ['POST', '/reachability/batch', { body: { queries: [] } }],
  ['POST', '/reachability/batch', { body: {} }],
  ['POST', '/reachability/batch', { body: { queries: {} } }],
  ['POST', '/reachability/batch', { body: { queries: [], trace: 'yes' } }],
  ['POST', '/reachability/batch', { body: '[]', contentType: 'application/yaml' }],
  ['GET', '/reachability/batch'],
  ['POST', '/reachability/matrix', { body: { from: { namespace: 'test-b' }, to: { labelSelector: 'app=test-server' }, port: 80, protocol: 'TCP', encoding: 'allowed' } }],
  ['POST', '/reachability/matrix', { body: { port: 80 } }],
  ['POST', '/reachability/matrix', { body: { port: 53, protocol: 'UDP', encoding: 'hex' } }],
  ['POST', '/reachability/matrix', { body: { port: 80, encoding: 'bits' } }],
  ['POST', '/reachability/matrix', { body: { from: { namespace: 'extra' }, port: 80, encoding: 'denied' } }],
  ['POST', '/reachability/matrix', { body: { from: { namespace: 'nope' }, port: 80 } }],
  ['POST', '/reachability/matrix', { body: { port: 'http' } }],
  ['POST', '/reachability/matrix', { body: { port: 80, encoding: 'png' } }],
  ['POST', '/reachability/matrix', { body: { port: 80, to: { labelSelector: 'app in (' } } }],
  ['POST', '/reachability/matrix', { body: 'port: 80', contentType: 'application/yaml' }],
  ['GET', '/pods/test-a/server-pod/isolation'],
  ['GET', '/pods/extra/host-agent/isolation'],
  ['GET', '/pods/extra/web-7d9-abcde/isolation'],
  ['GET', '/pods/test-a/nope/isolation'],
  ['GET', '/pods/test-a/server-pod/isolation?x=1'],

  // Listings.
  ['GET', '/namespaces'],
  ['GET', '/namespaces?x=1'],
  ['GET', '/namespaces/test-a'],
  ['GET', '/namespaces/nope'],
  ['GET', '/pods'],
  ['GET', '/pods?namespace=extra'],
  ['GET', '/pods?labelSelector=' + encodeURIComponent('app in (test-client,web),tier!=db')],
  ['GET', '/pods?labelSelector=' + encodeURIComponent('app in (')],
  ['GET', '/pods?namespace=a&namespace=b'],
  ['GET', '/pods/extra/web-7d9-abcde'],
  ['GET', '/pods/extra/host-agent'],
  ['GET', '/pods/test-a/nope'],
  ['GET', '/pods/test-a/server-pod?x=1'],
  ['GET', '/networkpolicies'],
  ['GET', '/networkpolicies?namespace=extra'],
  ['GET', '/networkpolicies?labelSelector=a'],
  ['GET', '/networkpolicies/extra/web'],
  ['GET', '/networkpolicies/test-a/default-deny-ingress'],
  ['GET', '/networkpolicies/test-a/nope'],
  ['GET', '/networkpolicies/test-a/default-deny-ingress?x=1'],
  ['GET', '/workloads'],
  ['GET', '/workloads?namespace=extra&labelSelector=app%3Dweb'],
  ['GET', '/workloads?labelSelector=' + encodeURIComponent('app in (')],
  ['GET', '/workloads/extra/ReplicaSet/web-7d9'],
  ['GET', '/workloads/extra/DaemonSet/agent'],
  ['GET', '/workloads/extra/deployment/web'],
  ['GET', '/workloads/extra/Deployment/nope'],
  ['GET', '/workloads/extra/Deployment/web/isolation'],
  ['GET', '/workloads/extra/DaemonSet/agent/isolation'],
  ['GET', '/workloads/extra/Deployment/nope/isolation'],
  ['GET', '/workloads/extra/Deployment/web/isolation?x=1'],
  ['DELETE', '/namespaces/extra/workloads/ReplicaSet/web-7d9'],
  ['DELETE', '/namespaces/extra/workloads/ReplicaSet/web-7d9'],
  ['DELETE', '/namespaces/extra/workloads/replicaset/web-7d9'],

  // Replacing and deleting.
  ['PUT', '/state', { body: walkthroughYaml, contentType: 'application/yaml' }],
  ['PUT', '/state?dryRun=true', { body: walkthroughYaml, contentType: 'application/yaml' }],
  ['DELETE', '/namespaces/test-b/networkpolicies/default-deny-egress'],
  ['DELETE', '/namespaces/test-b/networkpolicies/default-deny-egress'],
  ['DELETE', '/namespaces/test-b/networkpolicies/x?x=1'],
  ['DELETE', '/namespaces/test-a/pods/server-pod'],
  ['DELETE', '/namespaces/test-a/pods/server-pod'],
  ['DELETE', '/namespaces/test-a/pods/x?x=1'],
  ['DELETE', '/namespaces/test-b'],
  ['DELETE', '/namespaces/test-b'],
  ['DELETE', '/namespaces/x?x=1'],
  ['PUT', '/namespaces/test-a'],
  ['DELETE', '/state?x=1'],
  ['DELETE', '/state'],
  ['GET', '/state'],
  ['PUT', '/state', { body: '', contentType: 'application/yaml' }],
];

// --- main --------------------------------------------------------------------

const guard = setTimeout(() => {
  console.error('validate.mjs: gave up after 300 s');
  process.exit(1);
}, 300000);

let srv;
try {
  srv = await startServer();
  for (const [method, target, opts] of requests) {
    let res;
    try {
      res = await request(srv.port, method, target, opts);
    } catch (e) {
      mismatch(`${method} ${target}`, `no answer: ${e.message}`);
      continue;
    }
    check(method, target, res);
  }
  for (const template of Object.keys(spec.paths ?? {})) {
    for (const m of METHODS) {
      if (!spec.paths[template][m]) continue;
      const seen = exercised.get(`${m.toUpperCase()} ${template}`) ?? new Set();
      if (!seen.has(2)) mismatch(`${m.toUpperCase()} ${template}`, 'no request here answered 2xx; add one to validate.mjs');
      if (!seen.has(4)) mismatch(`${m.toUpperCase()} ${template}`, 'no request here answered 4xx; add one to validate.mjs');
    }
  }
} catch (e) {
  mismatch('netpolq', e.message);
}
if (srv) {
  srv.child.kill('SIGTERM');
  const { code, sig } = await srv.exited;
  if (code !== 0) mismatch('netpolq', `exited with ${code ?? 'signal ' + sig} on SIGTERM:\n${srv.log()}`);
}
clearTimeout(guard);
console.log(`${checked} answers checked against ${path.relative(process.cwd(), specPath) || specPath}: ${mismatches.length} mismatches`);
process.exit(mismatches.length === 0 ? 0 : 1);
