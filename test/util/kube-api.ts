/**
 * A stand-in Kubernetes API for the steps that read it, deciding every answer
 * from real inputs, as the API server would:
 * - TLS with its own CA, which pods get in their service account mount (ca.crt);
 * - authentication: only bearer tokens it issued, each to one service account;
 * - authorization: the RBAC authorizer's rules, evaluated over the SYNTHESIZED
 *   Roles, ClusterRoles and their bindings (nothing is allowed by fiat);
 * - Jobs whose status the test sets.
 * The kubelet's part is modelled too: `serviceAccountMount` mounts a token only
 * where the pod spec (or its ServiceAccount) asks for one.
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

type Json = any;

/** Where the kubelet mounts the service account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

let tls: { dir: string; ca: string; key: string; cert: string } | undefined;

/** A CA and a server certificate for 127.0.0.1, made once. */
function certificates(): NonNullable<typeof tls> {
  if (!tls) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-api-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=kubernetes-ca');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver');
    fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
    const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
    tls = { dir, ca: read('ca.crt'), key: read('server.key'), cert: read('server.crt') };
  }
  return tls;
}

/** One request as the API saw it. */
export interface ApiRequest {
  readonly method: string;
  readonly url: string;
  /** The authenticated user, e.g. system:serviceaccount:shop:web; undefined when not authenticated. */
  readonly user?: string;
  readonly code: number;
}

/** A running stand-in API. */
export interface KubeApi {
  readonly port: number;
  /** What the kubelet puts in every container's env for the API service (client-go's in-cluster config reads it). */
  readonly serviceEnv: Record<string, string>;
  /** Every request, in order. */
  readonly requests: ApiRequest[];
  /**
   * Sets a Job's status. Each given status is served to one authorized read, the
   * last one from then on; `undefined` is a Job not created yet (404).
   */
  setJob(namespace: string, name: string, ...statuses: Array<Json | undefined>): void;
  /**
   * What the kubelet mounts for `container` of `pod` that carries a service-account
   * token: each projected volume with a serviceAccountToken source (token issued by
   * this API to the pod's service account, `ca.crt`, `namespace`) as `volumes`, and
   * the automounted token at SERVICE_ACCOUNT_DIR as `mounts` when the pod (else its
   * account) enables automountServiceAccountToken and the container has no mount there.
   */
  kubeletMounts(pod: Json, container: Json, namespace: string): { volumes: Record<string, string>; mounts: Record<string, string> };
  /** A token this API issued to `namespace`/`name`, for tests of a mount made by hand. */
  issueToken(namespace: string, name: string): string;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string, details?: Json) => ({
  kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...details ? { details } : {}, code,
});

/** Whether an RBAC subject names the user (rbac/v1 appliesToUser); `bindingNamespace` defaults a ServiceAccount subject's namespace. */
function subjectMatches(subject: Json, user: string, groups: string[], bindingNamespace?: string): boolean {
  switch (subject.kind) {
    case 'User': return subject.name === user;
    case 'Group': return groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return !!namespace && `system:serviceaccount:${namespace}:${subject.name}` === user;
    }
    default: return false;
  }
}

/** Whether a PolicyRule allows a resource request (rbac/v1 RuleAllows). */
function ruleAllows(rule: Json, verb: string, group: string, resource: string, name: string): boolean {
  const has = (list: string[] | undefined, value: string) => (list ?? []).includes('*') || (list ?? []).includes(value);
  const names: string[] = rule.resourceNames ?? [];
  return has(rule.verbs, verb) && has(rule.apiGroups, group) && has(rule.resources, resource) && (names.length === 0 || names.includes(name));
}

/**
 * Starts the API over `objects` (a synthesized chart); objects without a
 * namespace are in `namespace`, as `kubectl apply -n NAMESPACE` would put them.
 */
export async function kubeApi(objects: Json[], namespace: string): Promise<KubeApi> {
  const certs = certificates();
  const tokens = new Map<string, string>();
  const jobs = new Map<string, Array<Json | undefined>>();
  const requests: ApiRequest[] = [];
  const nsOf = (o: Json) => o.metadata?.namespace ?? namespace;
  const byKind = (kind: string) => objects.filter(o => o.kind === kind && o.apiVersion?.startsWith('rbac.authorization.k8s.io/'));

  /** The RBAC authorizer: any binding whose subjects include the user and whose role has a rule allowing the request. */
  function authorized(user: string, verb: string, group: string, resource: string, ns: string, name: string): boolean {
    const groups = ['system:authenticated', 'system:serviceaccounts', `system:serviceaccounts:${user.split(':')[2]}`];
    const roleRules = (ref: Json, bindingNamespace?: string): Json[] => {
      const role = ref.kind === 'ClusterRole'
        ? byKind('ClusterRole').find(r => r.metadata.name === ref.name)
        : byKind('Role').find(r => r.metadata.name === ref.name && nsOf(r) === bindingNamespace);
      return role?.rules ?? [];
    };
    const bindings = [
      ...byKind('ClusterRoleBinding').map(b => ({ b, bindingNamespace: undefined as string | undefined })),
      ...byKind('RoleBinding').filter(b => nsOf(b) === ns).map(b => ({ b, bindingNamespace: ns })),
    ];
    return bindings.some(({ b, bindingNamespace }) =>
      (b.subjects ?? []).some((s: Json) => subjectMatches(s, user, groups, bindingNamespace)) &&
      roleRules(b.roleRef, bindingNamespace).some(rule => ruleAllows(rule, verb, group, resource, name)));
  }

  const server = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    const reply = (code: number, body: Json, user?: string) => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', user, code });
      // The API server pretty-prints JSON for curl and wget user agents.
      const pretty = /^curl\//.test(req.headers['user-agent'] ?? '');
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body, null, pretty ? 2 : undefined) + '\n');
    };
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const user = token === undefined ? undefined : tokens.get(token);
    if (!user) return reply(401, status(401, 'Unauthorized', 'Unauthorized'));
    const m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/?]+)$/.exec(req.url ?? '');
    if (!m || req.method !== 'GET') return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'), user);
    const [, ns, name] = m;
    if (!authorized(user, 'get', 'batch', 'jobs', ns, name)) {
      return reply(403, status(403, 'Forbidden',
        `jobs.batch "${name}" is forbidden: User "${user}" cannot get resource "jobs" in API group "batch" in the namespace "${ns}"`,
        { name, group: 'batch', kind: 'jobs' }), user);
    }
    const statuses = jobs.get(`${ns}/${name}`) ?? [undefined];
    const current = statuses.length > 1 ? statuses.shift() : statuses[0];
    if (current === undefined) return reply(404, status(404, 'NotFound', `jobs.batch "${name}" not found`, { name, group: 'batch', kind: 'jobs' }), user);
    const job = objects.find(o => o.kind === 'Job' && o.metadata?.name === name && nsOf(o) === ns);
    return reply(200, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: ns }, spec: job?.spec ?? {}, status: current }, user);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const issueToken = (ns: string, name: string) => {
    const token = crypto.randomBytes(24).toString('base64url');
    tokens.set(token, `system:serviceaccount:${ns}:${name}`);
    return token;
  };

  return {
    port,
    serviceEnv: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) },
    requests,
    setJob: (ns, name, ...statuses) => { jobs.set(`${ns}/${name}`, statuses.length ? statuses : [undefined]); },
    kubeletMounts: (pod, container, ns) => {
      const account = pod.serviceAccountName ?? 'default';
      const object = objects.find(o => o.kind === 'ServiceAccount' && o.metadata.name === account && nsOf(o) === ns);
      // The ServiceAccount admission rejects a pod whose account does not exist ("default" always does).
      if (!object && account !== 'default') throw new Error(`pod rejected: service account ${ns}/${account} not found`);
      const tokenDir = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serviceaccount-'));
        fs.chmodSync(dir, 0o755);
        fs.writeFileSync(path.join(dir, 'token'), issueToken(ns, account));
        fs.writeFileSync(path.join(dir, 'ca.crt'), certs.ca);
        fs.writeFileSync(path.join(dir, 'namespace'), ns);
        for (const f of ['token', 'ca.crt', 'namespace']) fs.chmodSync(path.join(dir, f), 0o644);
        return dir;
      };
      const volumes: Record<string, string> = {};
      for (const v of pod.volumes ?? []) {
        if ((v.projected?.sources ?? []).some((source: Json) => source.serviceAccountToken)) volumes[v.name] = tokenDir();
      }
      const mounts: Record<string, string> = {};
      const automount = pod.automountServiceAccountToken ?? object?.automountServiceAccountToken ?? true;
      if (automount && !(container.volumeMounts ?? []).some((m: Json) => m.mountPath === SERVICE_ACCOUNT_DIR)) {
        mounts[SERVICE_ACCOUNT_DIR] = tokenDir();
      }
      return { volumes, mounts };
    },
    issueToken,
    close: () => new Promise<void>(resolve => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
