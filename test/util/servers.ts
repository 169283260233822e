/**
 * Real local servers for tests, on loopback only, each closed by the test.
 */
import * as dgram from 'dgram';
import * as http from 'http';
import * as net from 'net';

/** A server the test can close. */
export interface LocalServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A free loopback port (bound then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise(resolve => server.close(resolve));
  return port;
}

function closer(server: net.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return () => new Promise<void>(resolve => {
    for (const s of sockets) s.destroy();
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** A TCP listener that starts accepting on `port` after `delayMs`. */
export function tcpListenerAfter(port: number, delayMs: number): LocalServer & { readonly openedAt: Promise<number> } {
  const server = net.createServer(socket => socket.end());
  const close = closer(server);
  let timer: NodeJS.Timeout | undefined;
  const openedAt = new Promise<number>((resolve, reject) => {
    timer = setTimeout(() => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(Date.now()));
    }, delayMs);
  });
  return { port, openedAt, close: async () => { clearTimeout(timer); await close(); } };
}

/** An HTTP server on loopback; `handler` decides each response. */
export async function httpServer(handler: http.RequestListener): Promise<LocalServer & { readonly requests: string[] }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => { requests.push(req.url ?? ''); handler(req, res); });
  const close = closer(server);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, requests, close };
}

/**
 * A minimal DNS server on loopback UDP: answers A queries for names in
 * `records` (name -> IPv4), NOERROR with no answer for other types of those
 * names, NXDOMAIN for anything else. Enough for busybox `nslookup`.
 */
export async function dnsServer(records: Map<string, string>): Promise<LocalServer> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let i = 12;
    const labels: string[] = [];
    while (msg[i] !== 0) { labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString()); i += msg[i] + 1; }
    const qtype = msg.readUInt16BE(i + 1);
    const question = msg.subarray(12, i + 5);
    const ip = records.get(labels.join('.'));
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(ip ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    const answer = ip && qtype === 1
      ? Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]), Buffer.from(ip.split('.').map(Number))])
      : Buffer.alloc(0);
    header.writeUInt16BE(answer.length ? 1 : 0, 6);
    socket.send(Buffer.concat([header, question, answer]), rinfo.port, rinfo.address);
  });
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => new Promise<void>(resolve => socket.close(() => resolve())) };
}
