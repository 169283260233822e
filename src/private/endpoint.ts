import * as kplus from 'cdk8s-plus-27';

/**
 * Validation of network endpoints given by users: they end up in environment
 * variables read by init scripts, so anything that is not a plain host name,
 * IP address or port is refused at synth time.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9_]{0,61}[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-f:.]+$/;
// No top-level domain is numeric (RFC 1123, 2.1), and URL parsers and resolvers
// read such a name as an IPv4 address: "999.1.1.1" is a mistyped address.
const NUMERIC_LABEL = /^(\d+|0x[0-9a-f]*)$/;

/** Why `host` (lowercase, without brackets) is not a DNS name or IP address, or undefined when it is one. */
function hostProblem(h: string): string | undefined {
  const isIpv6 = (h.match(/:/g) ?? []).length >= 2 && IPV6.test(h) && (h.match(/::/g) ?? []).length <= 1 && h.split(':').length <= 8;
  if (isIpv6 || IPV4.test(h)) return undefined;
  // One trailing dot marks a fully qualified name (no search domains): valid, and kept.
  const name = h.endsWith('.') ? h.slice(0, -1) : h;
  const labels = name.split('.');
  if (!name || name.length > 253 || !labels.every(l => DNS_LABEL.test(l))) return 'is not a valid DNS name or IP address';
  if (NUMERIC_LABEL.test(labels[labels.length - 1])) {
    return 'is not a valid IP address (four numbers from 0 to 255), and a DNS name cannot end in a numeric label';
  }
  return undefined;
}

/**
 * Returns the host in the form scripts use (lowercase, IPv6 without brackets,
 * a trailing dot kept), or throws naming the owner and the value.
 */
export function normalizeHost(owner: string, host: string): string {
  const h = typeof host === 'string' ? host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1') : '';
  const problem = hostProblem(h);
  if (problem) throw new Error(`${owner}: host ${JSON.stringify(host)} ${problem}`);
  return h;
}

/** Throws unless `port` is an integer from 1 to 65535. */
export function assertPort(owner: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${owner}: port ${JSON.stringify(port)} is not an integer from 1 to 65535`);
  }
}

// RFC 3986 characters; no whitespace, quotes, backticks, backslashes or braces.
const URL_CHARS = /^[A-Za-z0-9\-._~!$&()*+,;=:@%/?#[\]]+$/;

/**
 * Returns `url` with its scheme in lower case (as the scripts compare it), or
 * throws naming the owner and the value unless it is a URL of one of `schemes`
 * (matched in any case) with a valid host, a port from 1 to 65535 if any, and
 * no credentials (except in ssh URLs, where the user name is not a secret).
 *
 * @param owner the construct path named in the error
 */
export function normalizeUrl(owner: string, url: string, schemes: string[]): string {
  const sep = typeof url === 'string' ? url.indexOf('://') : -1;
  const scheme = sep > 0 ? url.slice(0, sep).toLowerCase() : '';
  if (!schemes.includes(scheme) || !URL_CHARS.test(url)) {
    throw new Error(`${owner}: URL ${JSON.stringify(url)} must be a ${schemes.join('/')} URL without spaces, quotes or backticks`);
  }
  const rest = url.slice(sep + 3);
  const authority = rest.slice(0, rest.search(/[/?#]|$/));
  const at = authority.lastIndexOf('@');
  if (at >= 0 && scheme !== 'ssh') {
    throw new Error(`${owner}: URL ${JSON.stringify(url)} contains credentials; take them from a Secret instead`);
  }
  const hostAndPort = authority.slice(at + 1);
  const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostAndPort)!;
  const [host, port] = [m[1], m[2]];
  if (host || scheme !== 'file') {
    const problem = hostProblem(host.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
    if (problem) throw new Error(`${owner}: URL ${JSON.stringify(url)}: host ${JSON.stringify(host)} ${problem}`);
  }
  // An empty port ("host:/") means the scheme's default.
  if (port !== undefined && port !== '' && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    throw new Error(`${owner}: URL ${JSON.stringify(url)}: port ${JSON.stringify(port)} is not an integer from 1 to 65535`);
  }
  return scheme + url.slice(sep);
}

/** "host:port", with IPv6 literals in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The in-cluster DNS name of a service: "name.namespace.svc" when its namespace
 * is known, else "name" (resolved in the pod's own namespace).
 */
export function serviceHost(service: kplus.Service): string {
  const namespace = service.metadata.namespace;
  return namespace ? `${service.name}.${namespace}.svc` : service.name;
}

/** Host and port of a service: the given port (which it must expose) or its first. */
export function serviceEndpoint(owner: string, service: kplus.Service, port?: number): { host: string; port: number } {
  const ports = service.ports.map(p => p.port);
  const chosen = port ?? ports[0];
  if (chosen === undefined) {
    throw new Error(`${owner}: Service ${service.node.path} has no ports; give the port to check`);
  }
  if (port !== undefined && ports.length > 0 && !ports.includes(port)) {
    throw new Error(`${owner}: Service ${service.node.path} does not expose port ${port} (it exposes ${ports.join(', ')})`);
  }
  return { host: serviceHost(service), port: chosen };
}
