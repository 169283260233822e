#!/usr/bin/env node
/*
 * A stand-in for the Cloud SQL Auth Proxy v2 (`cloud-sql-proxy`), the entrypoint of
 * its image in the container tests. It takes the command line the way the real CLI
 * does (pflag: `--flag value`, `--flag=value`, boolean flags) and accepts only the
 * flags of cloud-sql-proxy's documentation (docs/cmd/cloud-sql-proxy.md) that the
 * DatabaseProxy.cloudSqlProxy() preset may render, so a misspelled or unknown flag
 * fails as cobra fails it ("Error: unknown flag: --x", exit 1). It then behaves as
 * the proxy does for one instance:
 * - listens on --address:--port and forwards every connection to the instance,
 *   here the test's PostgreSQL at $STAND_IN_UPSTREAM (host:port), the way the
 *   proxy's local listener forwards plain database traffic;
 * - with --health-check, serves /startup (200 once the listener is up), /liveness
 *   (200) and /readiness (200 when the instance accepts a connection, else 503) on
 *   --http-address:--http-port (defaults localhost and 9090);
 * - with --credentials-file, reads that file at start and fails if it cannot;
 * - logs JSON entries with --structured-logs;
 * - on SIGTERM closes its listeners and exits 0 with --exit-zero-on-sigterm, else 143.
 * It is plain Node.js (no dependencies), run with the host's node.
 */
'use strict';
const fs = require('fs');
const http = require('http');
const net = require('net');

const BOOLEAN = new Set(['health-check', 'exit-zero-on-sigterm', 'structured-logs', 'private-ip', 'auto-iam-authn']);
const VALUED = new Set(['address', 'port', 'http-address', 'http-port', 'credentials-file']);
const INSTANCE = /^(?:[a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]*[a-z0-9]:[a-z][a-z0-9-]*[a-z0-9]:[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

function usageError(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
}

const flags = { 'address': '127.0.0.1', 'http-address': 'localhost', 'http-port': '9090' };
const instances = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (!arg.startsWith('--')) {
    instances.push(arg);
    continue;
  }
  const eq = arg.indexOf('=');
  const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
  if (BOOLEAN.has(name)) {
    const value = eq < 0 ? 'true' : arg.slice(eq + 1);
    if (value !== 'true' && value !== 'false') usageError(`invalid argument "${value}" for "--${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
    flags[name] = value === 'true';
  } else if (VALUED.has(name)) {
    if (eq >= 0) flags[name] = arg.slice(eq + 1);
    else if (i + 1 < argv.length) flags[name] = argv[++i];
    else usageError(`flag needs an argument: --${name}`);
  } else {
    usageError(`unknown flag: --${name}`);
  }
}
if (instances.length !== 1) usageError(`want one instance connection name, got ${instances.length}: ${instances.join(' ')}`);
const instance = instances[0];
if (!INSTANCE.test(instance)) usageError(`invalid instance connection name, expected PROJECT:REGION:INSTANCE, got ${instance}`);
const port = Number(flags.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) usageError(`invalid argument "${flags.port}" for "--port" flag`);
const [upstreamHost, upstreamPort] = (process.env.STAND_IN_UPSTREAM || '').split(':');
if (!upstreamHost || !upstreamPort) usageError('STAND_IN_UPSTREAM (host:port of the stand-in instance) is not set');

function log(severity, message) {
  if (flags['structured-logs']) {
    process.stdout.write(`${JSON.stringify({ severity, timestamp: new Date().toISOString(), message })}\n`);
  } else {
    process.stdout.write(`${new Date().toISOString()} ${message}\n`);
  }
}

if (flags['credentials-file'] !== undefined) {
  try {
    JSON.parse(fs.readFileSync(flags['credentials-file'], 'utf8'));
  } catch (e) {
    log('ERROR', `failed to read credentials file ${flags['credentials-file']}: ${e.message}`);
    process.exit(1);
  }
}

const sockets = new Set();
let started = false;
const listener = net.createServer(client => {
  const server = net.connect(Number(upstreamPort), upstreamHost);
  for (const s of [client, server]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => { client.destroy(); server.destroy(); });
  }
  client.pipe(server);
  server.pipe(client);
});
listener.on('error', e => {
  log('ERROR', `[${instance}] Unable to listen on ${flags.address}:${port}: ${e.message}`);
  process.exit(1);
});

function readiness(respond) {
  const probe = net.connect(Number(upstreamPort), upstreamHost);
  const done = ok => { probe.destroy(); respond(ok); };
  probe.setTimeout(2000, () => done(false));
  probe.on('connect', () => done(true));
  probe.on('error', () => done(false));
}

const health = flags['health-check'] ? http.createServer((req, res) => {
  const reply = (ok) => { res.writeHead(ok ? 200 : 503); res.end(ok ? 'ok' : 'error'); };
  if (req.url === '/startup') reply(started);
  else if (req.url === '/liveness') reply(true);
  else if (req.url === '/readiness') readiness(ok => reply(started && ok));
  else { res.writeHead(404); res.end(); }
}) : undefined;

function shutdown(signal) {
  log('INFO', `${signal} signal received. Shutting down...`);
  listener.close();
  health?.close();
  for (const s of sockets) s.destroy();
  process.exit(signal === 'SIGTERM' && flags['exit-zero-on-sigterm'] ? 0 : 128 + (signal === 'SIGTERM' ? 15 : 2));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

const listen = (server, p, host) => new Promise(resolve => server.listen(p, host, resolve));
(async () => {
  if (health) {
    health.on('error', e => {
      log('ERROR', `failed to start the health check server on ${flags['http-address']}:${flags['http-port']}: ${e.message}`);
      process.exit(1);
    });
    await listen(health, Number(flags['http-port']), flags['http-address']);
  }
  await listen(listener, port, flags.address);
  log('INFO', `[${instance}] Listening on ${flags.address}:${port}`);
  started = true;
  log('INFO', 'The proxy has started successfully and is ready for new connections!');
})();
