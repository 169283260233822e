import * as kplus from 'cdk8s-plus-27';

/**
 * Validation of network endpoints given by users: they end up in environment
 * variables read by init scripts, so anything that is not a plain host name,
 * IP address or port is refused at synth time.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9_]{0,61}[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-f:.]+$/;

/**
 * Returns the host in the form scripts use (lowercase, IPv6 without brackets),
 * or throws naming the owner and the value.
 */
export function normalizeHost(owner: string, host: string): string {
  const h = typeof host === 'string' ? host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1') : '';
  const isDnsName = h.length <= 253 && h.split('.').every(l => DNS_LABEL.test(l));
  const isIpv6 = (h.match(/:/g) ?? []).length >= 2 && IPV6.test(h) && (h.match(/::/g) ?? []).length <= 1 && h.split(':').length <= 8;
  if (!h || !(isDnsName || IPV4.test(h) || isIpv6)) {
    throw new Error(`${owner}: host ${JSON.stringify(host)} is not a valid DNS name or IP address`);
  }
  return h;
}

/** Throws unless `port` is an integer from 1 to 65535. */
export function assertPort(owner: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${owner}: port ${JSON.stringify(port)} is not an integer from 1 to 65535`);
  }
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
