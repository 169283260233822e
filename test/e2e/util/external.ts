/**
 * The hosts outside the cluster that the examples name (config.example.com,
 * git.example.com): served over HTTPS by the test process on the node's IP,
 * which the cluster DNS stand-in resolves them to, with a certificate from the
 * tier's CA, which the stand-in images trust as a private CA is trusted in
 * real images.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { gitHttpHandler } from '../../util/git-server';

/** `examples/config-fetch`'s flags.json, whose sha256 the example pins. */
export const FLAGS_JSON = '{"checkout_v2": true}\n';

/** One request the hosts received. */
export interface ExternalRequest {
  readonly host: string;
  readonly path: string;
  readonly authorization?: string;
}

/** The running hosts. */
export interface ExternalHosts {
  readonly requests: ExternalRequest[];
  /** Files served by config.example.com, by path; change them to break a fetch. */
  readonly files: Map<string, string>;
  close(): Promise<void>;
}

const EXTERNAL_NAMES = ['config.example.com', 'git.example.com'];

/** A bare repository with tag v3.2.0 holding public/index.html, as examples/config-fetch fetches. */
function siteRepository(root: string): void {
  const work = path.join(root, 'work');
  const git = (...args: string[]) => execFileSync('git', args, {
    cwd: work,
    stdio: 'pipe',
    env: { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.com', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.com' },
  });
  fs.mkdirSync(path.join(work, 'public'), { recursive: true });
  fs.writeFileSync(path.join(work, 'public', 'index.html'), '<h1>site v3.2.0</h1>\n');
  fs.writeFileSync(path.join(work, 'README.md'), 'not served\n');
  git('init', '--quiet', '-b', 'main');
  git('add', '.');
  git('commit', '--quiet', '-m', 'site');
  git('tag', 'v3.2.0');
  fs.mkdirSync(path.join(root, 'web'));
  execFileSync('git', ['clone', '--quiet', '--bare', work, path.join(root, 'web', 'site.git')], { stdio: 'pipe' });
}

/** Starts the hosts on `${E2E_NODE_IP}:443`. */
export async function startExternalHosts(): Promise<ExternalHosts> {
  const caCert = process.env.E2E_CA_CERT!;
  const caKey = process.env.E2E_CA_KEY!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-external-'));
  const key = path.join(dir, 'key.pem');
  const csr = path.join(dir, 'csr.pem');
  const cert = path.join(dir, 'cert.pem');
  const ext = path.join(dir, 'ext');
  fs.writeFileSync(ext, `subjectAltName=${EXTERNAL_NAMES.map(n => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=config.example.com', '-keyout', key, '-out', csr], { stdio: 'pipe' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert], { stdio: 'pipe' });
  const repositories = path.join(dir, 'git');
  fs.mkdirSync(repositories);
  siteRepository(repositories);

  const requests: ExternalRequest[] = [];
  const files = new Map<string, string>([['/web/flags.json', FLAGS_JSON]]);
  const git = gitHttpHandler(repositories);
  const tls = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
  const server = https.createServer(tls, (req: http.IncomingMessage, res: http.ServerResponse) => {
    const host = String(req.headers.host ?? '').replace(/:443$/, '');
    const url = new URL(req.url ?? '/', `https://${host}`);
    requests.push({ host, path: url.pathname, authorization: req.headers.authorization });
    if (host === 'git.example.com') return git(req, res);
    const body = host === 'config.example.com' ? files.get(url.pathname) : undefined;
    if (body === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
  });
  const sockets = new Set<import('net').Socket>();
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(443, process.env.E2E_NODE_IP, resolve);
  });
  return {
    requests,
    files,
    close: () => new Promise<void>(resolve => {
      for (const s of sockets) s.destroy();
      server.close(() => { fs.rmSync(dir, { recursive: true, force: true }); resolve(); });
    }),
  };
}
