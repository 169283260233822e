import * as kplus from 'cdk8s-plus-27';
import { assertPort, hostPort, normalizeHost, serviceEndpoint, serviceHost } from '../private/endpoint';
import { memoized } from '../private/step-values';

/**
 * Options for a TCP target given by host and port.
 */
export interface TcpTargetOptions {
  /** DNS name (a trailing dot marks it fully qualified) or IP address. */
  readonly host: string;

  /** TCP port. */
  readonly port: number;
}

/**
 * Options for an HTTP(S) check.
 */
export interface HttpCheckOptions {
  /**
   * Request path, starting with "/", optionally with a query.
   *
   * @default "/"
   */
  readonly path?: string;

  /**
   * Status codes that mean ready: comma-separated codes or classes, such as
   * "200", "2xx" or "2xx,401". Redirects are followed first.
   *
   * @default "2xx"
   */
  readonly expectStatus?: string;

  /**
   * Use HTTPS. As with the kubelet's HTTPS probes, the server certificate is
   * not verified: the check asks "is it answering", not "is it trusted".
   * The check runs with curl: a `WaitForService` with an HTTPS target uses
   * `WaitForService.CURL_IMAGE` unless its `image` is given.
   *
   * @default false
   */
  readonly https?: boolean;
}

/**
 * Options for an HTTP(S) target given by host and port.
 */
export interface HttpTargetOptions extends HttpCheckOptions {
  /** DNS name (a trailing dot marks it fully qualified) or IP address. */
  readonly host: string;

  /**
   * Port.
   *
   * @default 80, or 443 with `https`
   */
  readonly port?: number;
}

/**
 * Options for a target given by a cdk8s-plus Service.
 */
export interface ServiceTargetOptions {
  /**
   * Port of the service to check.
   *
   * @default - the service's first port
   */
  readonly port?: number;
}

/**
 * Options for an HTTP(S) target given by a cdk8s-plus Service.
 */
export interface HttpServiceTargetOptions extends ServiceTargetOptions, HttpCheckOptions {}

/**
 * Options for a DNS target.
 */
export interface DnsTargetOptions {
  /**
   * DNS server to ask, as an IP address.
   *
   * @default - the pod's resolver
   */
  readonly server?: string;

  /**
   * Port of `server`.
   *
   * @default 53
   */
  readonly serverPort?: number;
}

/**
 * Something a `WaitForService` step waits for, and how it checks readiness.
 */
export class WaitTarget {
  /**
   * Ready when a TCP connection to host:port succeeds.
   */
  public static tcp(options: TcpTargetOptions): WaitTarget {
    const host = knownHost(options.host, 'WaitTarget.tcp');
    assertPort('WaitTarget.tcp', options.port);
    return new WaitTarget(`tcp ${host} ${options.port}`, hostPort(host, options.port));
  }

  /**
   * Ready when a TCP connection to the service succeeds.
   */
  public static tcpService(service: kplus.Service, options: ServiceTargetOptions = {}): WaitTarget {
    const { host, port } = serviceEndpoint('WaitTarget.tcpService', service, options.port);
    return WaitTarget.tcp({ host, port });
  }

  /**
   * Ready when an HTTP(S) GET answers with an expected status.
   */
  public static http(options: HttpTargetOptions): WaitTarget {
    const owner = 'WaitTarget.http';
    const host = knownHost(options.host, owner);
    const port = options.port ?? (options.https ? 443 : 80);
    assertPort(owner, port);
    const path = options.path ?? '/';
    if (!HTTP_PATH.test(path)) {
      throw new Error(`${owner}: path ${JSON.stringify(path)} must start with "/" and contain only URL characters (no spaces, quotes or backticks)`);
    }
    const expect = options.expectStatus ?? '2xx';
    if (!EXPECT_STATUS.test(expect)) {
      throw new Error(`${owner}: expectStatus ${JSON.stringify(expect)} must be comma-separated status codes or classes such as "200", "2xx" or "2xx,401"`);
    }
    const scheme = options.https ? 'https' : 'http';
    const patterns = expect.replace(/x/g, '?');
    return new WaitTarget(`${scheme} ${host} ${port} ${path} ${patterns}`, `${scheme}://${hostPort(host, port)}${path} (${expect})`);
  }

  /**
   * Ready when an HTTP(S) GET to the service answers with an expected status.
   */
  public static httpService(service: kplus.Service, options: HttpServiceTargetOptions = {}): WaitTarget {
    const { host, port } = serviceEndpoint('WaitTarget.httpService', service, options.port);
    return WaitTarget.http({ ...options, host, port });
  }

  /**
   * Ready when the name resolves.
   */
  public static dns(host: string, options: DnsTargetOptions = {}): WaitTarget {
    const name = knownHost(host, 'WaitTarget.dns');
    let server = '';
    if (options.server !== undefined) {
      const port = options.serverPort ?? 53;
      assertPort('WaitTarget.dns', port);
      server = ` ${hostPort(normalizeHost('WaitTarget.dns server', options.server), port)}`;
    }
    return new WaitTarget(`dns ${name}${server}`, `dns:${name}`);
  }

  /**
   * Ready when the service's DNS name resolves.
   */
  public static dnsService(service: kplus.Service): WaitTarget {
    return WaitTarget.dns(serviceHost(service));
  }

  /**
   * @param spec the line the wait script reads for this target
   * @param description how the target reads in messages and plans
   */
  private constructor(
    /** The line the wait script reads for this target. */
    public readonly spec: string,
    /** How the target reads in messages and plans. */
    public readonly description: string,
  ) {}
}

/** `normalizeHost` of a string, each host checked once: the workloads of an app wait for the same few hosts. */
const memoizedHost = memoized((host: string, owner: string) => normalizeHost(owner, host));

function knownHost(host: string, owner: string): string {
  return typeof host === 'string' ? memoizedHost(host, owner) : normalizeHost(owner, host);
}

// RFC 3986 path and query characters; no whitespace, quotes, backticks or backslashes.
const HTTP_PATH = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*$/;
const EXPECT_STATUS = /^[1-5][0-9x]{2}(,[1-5][0-9x]{2})*$/;
