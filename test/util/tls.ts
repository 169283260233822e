/**
 * Local TLS test servers on loopback, with certificates made by the openssl CLI,
 * each pinned to one key exchange group and one TLS version so a test proves
 * which handshake a client completed.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { TLSSocket } from 'tls';
import { LocalServer } from './servers';

/** A self-signed certificate for 127.0.0.1 and localhost. */
export interface TestCert {
  /** "rsa" (RSA 2048) or "p256" (ECDSA P-256). */
  readonly kind: 'rsa' | 'p256';
  readonly key: string;
  readonly cert: string;
}

/** Makes a self-signed certificate with the openssl CLI. */
export function makeCert(kind: 'rsa' | 'p256'): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-'));
  try {
    const keyArgs = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    execFileSync('openssl', [
      'req', '-x509', ...keyArgs, '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'pipe' });
    return {
      kind,
      key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** How one server negotiates. */
export interface TlsServerOptions {
  readonly cert: TestCert;
  /** The only key exchange group offered, e.g. "X25519" or "P-256". */
  readonly group: string;
  /** The only TLS version offered. */
  readonly version: 'TLSv1.2' | 'TLSv1.3';
}

/** A completed handshake, as the server saw it. */
export interface Handshake {
  readonly protocol: string | null;
  readonly cipher: string;
}

// For TLS 1.2, ephemeral ECDH only: the key exchange is then the pinned group
// (no static-RSA or DHE fallback).
const CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384',
].join(':');

/** An HTTPS server on 127.0.0.1; `handler` decides each response. */
export async function httpsServer(options: TlsServerOptions, handler: (req: any, res: any) => void):
Promise<LocalServer & { readonly requests: string[]; readonly handshakes: Handshake[] }> {
  const requests: string[] = [];
  const handshakes: Handshake[] = [];
  const server = https.createServer({
    key: options.cert.key,
    cert: options.cert.cert,
    ecdhCurve: options.group,
    minVersion: options.version,
    maxVersion: options.version,
    ciphers: CIPHERS,
  }, (req, res) => { requests.push(req.url ?? ''); handler(req, res); });
  server.on('secureConnection', (socket: TLSSocket) => {
    handshakes.push({ protocol: socket.getProtocol(), cipher: socket.getCipher().name });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    handshakes,
    close: () => new Promise<void>(resolve => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
