import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { DatabaseConnection, DatabaseEngine } from './database';
import { InitStep, SidecarOptions } from './init-step';
import { assertPort, hostPort } from './private/endpoint';
import { assertSecretKey } from './private/env';
import { brand } from './private/identity';
import { assertPinnedImage } from './private/image';
import { DATABASE_PROXY_BRAND } from './private/migration-brands';
import { assertDns1123Label, suffixedLabel, toDns1123Label } from './private/names';
import { withDefaultResources } from './private/resources';
import { WorkloadInit } from './private/workload-init';
import { SharedVolume } from './shared-volume';
import { StepSecurity } from './step-security';
import { WaitTarget } from './steps/wait-target';

/**
 * Options of the cloud-sql-proxy preset (Cloud SQL Auth Proxy v2).
 */
export interface CloudSqlProxyOptions {
  /**
   * The instance connection name, "project:region:instance" (a domain-scoped
   * project is "example.com:project:region:instance"), as
   * `gcloud sql instances describe INSTANCE --format='value(connectionName)'`
   * prints it.
   */
  readonly instanceConnectionName: string;

  /**
   * The port the proxy listens on, on 127.0.0.1, for the database protocol
   * (`--port`). The migration's `DatabaseConnection` names this port.
   *
   * @default 5432 (give 3306 for MySQL)
   */
  readonly port?: number;

  /**
   * The port of the proxy's health-check server (`--http-port`), which serves
   * `/startup`, `/liveness` and `/readiness`. It listens on every address of
   * the pod (`--http-address 0.0.0.0`) because the kubelet's probes connect to
   * the pod IP; it serves only those three endpoints. Pick another port when
   * a container of the pod already uses 9090.
   *
   * @default 9090
   */
  readonly httpPort?: number;

  /**
   * The proxy's image, pinned.
   *
   * @default DatabaseProxy.CLOUD_SQL_PROXY_IMAGE
   */
  readonly image?: string;

  /**
   * Connect to the instance's private IP (`--private-ip`), from a VPC that
   * reaches it.
   *
   * @default false - the instance's public IP
   */
  readonly privateIp?: boolean;

  /**
   * Automatic IAM database authentication (`--auto-iam-authn`): the proxy logs
   * in with the IAM principal's token, so the database user is that principal
   * and the password in the `DatabaseConnection`'s Secret is not checked.
   *
   * @default false
   */
  readonly autoIamAuthn?: boolean;

  /**
   * A service account key (JSON) in a Secret, mounted read-only as a file for
   * `--credentials-file`. Prefer Workload Identity, which needs no key.
   *
   * @default - no key: the proxy uses Application Default Credentials (Workload Identity on GKE)
   */
  readonly credentials?: kplus.SecretValue;

  /**
   * Container name, a DNS-1123 label unique among the pod's containers.
   *
   * @default - "<migration>-proxy" for a migration's proxy, else derived from the construct id
   */
  readonly name?: string;

  /**
   * CPU and memory; what is left out is filled from the proxy's defaults.
   * The proxy runs beside the app for the pod's lifetime, so this adds to the
   * pod's request. Its memory grows with open connections and its CPU with the
   * traffic: raise it when the app uses the proxy heavily (Google's sample
   * requests 1 CPU and 2Gi for an application's traffic).
   *
   * @default - cpu request 100m; memory request 128Mi, limit 256Mi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Security profile. The official image is distroless "nonroot" (uid 65532),
   * which the restricted default matches.
   *
   * @default StepSecurity.restricted()
   */
  readonly security?: StepSecurity;

  /**
   * When the kubelet pulls the image.
   *
   * @default ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: kplus.ImagePullPolicy;
}

/**
 * Options of a proxy of your own.
 */
export interface CustomDatabaseProxyOptions {
  /** The proxy's image, pinned to a version tag or a sha256 digest. */
  readonly image: string;

  /**
   * The port the proxy listens on for the database protocol, at `address`.
   * The migration's `DatabaseConnection` names this port.
   */
  readonly port: number;

  /**
   * The loopback address the proxy listens on; your `args` must make it listen
   * there, and only there. A proxy on another address would offer the
   * database, with the proxy's credentials, to anything that reaches the pod.
   *
   * @default "127.0.0.1"
   */
  readonly address?: string;

  /**
   * Entrypoint.
   *
   * @default - the image's entrypoint
   */
  readonly command?: string[];

  /**
   * Arguments. They reach the proxy as they are, with no shell; the kubelet
   * expands `$(NAME)` references to the container's env vars.
   *
   * @default - the image's cmd
   */
  readonly args?: string[];

  /**
   * Environment variables; secrets only through `EnvValue.fromSecretValue`.
   *
   * @default - none
   */
  readonly env?: { [name: string]: kplus.EnvValue };

  /**
   * Passes once the proxy is ready for the steps after it. The kubelet's
   * probes connect to the pod IP, never to loopback, so probe a health
   * endpoint the proxy serves on the pod IP; a TCP probe on the loopback
   * database port would never pass.
   *
   * @default - none: the migration's wait for the database (a TCP connect to `address`:`port` from inside the pod) holds it until the proxy listens
   */
  readonly startupProbe?: kplus.Probe;

  /**
   * Whether the proxy is alive; the kubelet restarts it when this fails.
   *
   * @default - none
   */
  readonly livenessProbe?: kplus.Probe;

  /**
   * Whether the proxy is ready for traffic; the pod is Ready only while it is.
   *
   * @default - none
   */
  readonly readinessProbe?: kplus.Probe;

  /**
   * Container name, a DNS-1123 label unique among the pod's containers.
   *
   * @default - "<migration>-proxy" for a migration's proxy, else derived from the construct id
   */
  readonly name?: string;

  /**
   * CPU and memory; what is left out is filled from the proxy defaults.
   *
   * @default - cpu request 100m; memory request 128Mi, limit 256Mi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Security profile.
   *
   * @default StepSecurity.restricted()
   */
  readonly security?: StepSecurity;

  /**
   * When the kubelet pulls the image.
   *
   * @default ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: kplus.ImagePullPolicy;

  /**
   * Ports the proxy listens on besides `port` (a health or admin server), so
   * a clash with another container of the pod fails synthesis.
   *
   * @default - none
   */
  readonly otherPorts?: number[];

  /**
   * What the proxy is, for init plans and errors.
   *
   * @default - "database proxy <image>"
   */
  readonly description?: string;
}

/** Everything a proxy renders into its sidecar. */
interface ProxySpec {
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env: { [name: string]: kplus.EnvValue };
  readonly address: string;
  readonly port: number;
  /** Ports besides `port` the proxy binds in the pod's network namespace. */
  readonly otherPorts: number[];
  readonly sidecar: SidecarOptions;
  readonly name?: string;
  readonly resources: kplus.ContainerResources;
  readonly security?: StepSecurity;
  readonly imagePullPolicy?: kplus.ImagePullPolicy;
  readonly description: string;
  /** Extra targets of the wait for the database through this proxy (checked with the proxy's own port). */
  readonly waitTargets: WaitTarget[];
  /** Whether the local listener speaks the database protocol in plain text only (PostgreSQL clients must use sslmode=disable). */
  readonly plaintextListener: boolean;
  /** A Secret key mounted as a file, and the flag that takes its path. */
  readonly credentials?: { readonly value: kplus.SecretValue; readonly dir: string; readonly file: string };
}

/** The proxy defaults: more than a step's, since it runs beside the app for the pod's lifetime. */
const PROXY_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
};

/** Where the cloud-sql-proxy preset mounts its key; the file name inside it. */
const CLOUD_SQL_CREDENTIALS_DIR = '/var/run/secrets/cloud-sql-proxy';
const CLOUD_SQL_CREDENTIALS_FILE = 'credentials.json';

// [domain:]project:region:instance. Project ids: lowercase letters, digits and
// "-", starting with a letter; a domain-scoped project is "example.com:project".
// Regions ("europe-west1") and instance ids: lowercase letters, digits and "-".
const LABEL = '[a-z][a-z0-9-]*[a-z0-9]';
const INSTANCE_CONNECTION_NAME = new RegExp(
  `^(?:[a-z0-9][a-z0-9.-]*[a-z0-9]:)?${LABEL}:${LABEL}:[a-z](?:[a-z0-9-]*[a-z0-9])?$`,
);

/**
 * A database proxy that runs as a native sidecar in the migration's pod (and
 * beside the app, which may use it too): the migration tool, and the wait for
 * the database, connect to the proxy on the pod's loopback address, and the
 * proxy connects to the database.
 *
 * A native sidecar needs Kubernetes 1.29 or later: declare it with
 * `KubernetesTarget` on the app or chart, or synthesis fails.
 */
export class DatabaseProxy {
  /**
   * The image `cloudSqlProxy()` pins: Cloud SQL Auth Proxy 2.23.0 (released
   * 2026-06-26, https://github.com/GoogleCloudPlatform/cloud-sql-proxy/releases/tag/v2.23.0),
   * distroless, running as "nonroot" (uid 65532).
   */
  public static readonly CLOUD_SQL_PROXY_IMAGE = 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.23.0';

  /**
   * The Cloud SQL Auth Proxy v2, with the flags its documentation gives
   * (https://github.com/GoogleCloudPlatform/cloud-sql-proxy, docs/cmd/cloud-sql-proxy.md):
   *
   * - `--address 127.0.0.1 --port <port>`: the database listener, on loopback only;
   * - `--health-check --http-address 0.0.0.0 --http-port <httpPort>`: `/startup`
   *   (200 once started) is the startup probe, so the next step starts as soon as
   *   the proxy listens; `/liveness` is the liveness probe; `/readiness` (200 once
   *   the proxy can connect to the instance) is what the wait for the database
   *   checks. The kubelet's probes connect to the pod IP, hence 0.0.0.0, as
   *   Google's health-check example does ("Listen on all addresses so the kubelet
   *   can reach the endpoints", examples/k8s-health-check/proxy_with_http_health_check.yaml);
   * - `--exit-zero-on-sigterm`: exits 0 when the kubelet stops it (else 143),
   *   as Google's native-sidecar Job example does (examples/k8s-sidecar/job_with_sidecar.yaml);
   * - `--structured-logs`: JSON log entries, as Cloud Logging reads them;
   * - `--private-ip`, `--auto-iam-authn`, `--credentials-file` when asked for.
   *
   * No readiness probe: `/readiness` dials the instance, so a database blip
   * would take every replica out of its Services at once.
   *
   * The local listener speaks plain PostgreSQL (the proxy encrypts to the
   * instance with TLS 1.3), so a PostgreSQL `DatabaseConnection` through it
   * needs `sslMode: 'disable'`.
   */
  public static cloudSqlProxy(options: CloudSqlProxyOptions): DatabaseProxy {
    const owner = 'DatabaseProxy.cloudSqlProxy';
    const instance = options.instanceConnectionName;
    if (typeof instance !== 'string' || !INSTANCE_CONNECTION_NAME.test(instance)) {
      throw new Error(
        `${owner}: instanceConnectionName ${JSON.stringify(instance)} is not an instance connection name "project:region:instance" ` +
        '(e.g. "my-project:europe-west1:shop-db"; `gcloud sql instances describe INSTANCE --format=\'value(connectionName)\'` prints it)',
      );
    }
    const port = options.port ?? 5432;
    assertPort(`${owner}: instance ${instance}`, port);
    const httpPort = options.httpPort ?? 9090;
    assertPort(`${owner}: instance ${instance}: httpPort`, httpPort);
    if (httpPort === port) {
      throw new Error(`${owner}: instance ${instance}: httpPort ${httpPort} is also the database port; give the health-check server another port`);
    }
    const image = options.image ?? DatabaseProxy.CLOUD_SQL_PROXY_IMAGE;
    assertPinnedImage(owner, image);
    if (options.credentials !== undefined) {
      if (!options.credentials?.secret) throw new Error(`${owner}: instance ${instance}: credentials must give the Secret and the key of the service account key`);
      assertSecretKey(owner, 'credentials.key', options.credentials.key);
    }
    const credentialsFile = `${CLOUD_SQL_CREDENTIALS_DIR}/${CLOUD_SQL_CREDENTIALS_FILE}`;
    const probe = (path: string, period: number, failures: number) => kplus.Probe.fromHttpGet(path, {
      port: httpPort, periodSeconds: Duration.seconds(period), failureThreshold: failures, timeoutSeconds: Duration.seconds(5),
    });
    return new DatabaseProxy({
      image,
      args: [
        '--address', '127.0.0.1',
        '--port', String(port),
        '--health-check',
        '--http-address', '0.0.0.0',
        '--http-port', String(httpPort),
        '--exit-zero-on-sigterm',
        '--structured-logs',
        ...options.privateIp ? ['--private-ip'] : [],
        ...options.autoIamAuthn ? ['--auto-iam-authn'] : [],
        ...options.credentials ? ['--credentials-file', credentialsFile] : [],
        instance,
      ],
      env: {},
      address: '127.0.0.1',
      port,
      otherPorts: [httpPort],
      sidecar: {
        // Checked every second, for up to a minute: then the kubelet restarts it.
        startupProbe: probe('/startup', 1, 60),
        livenessProbe: probe('/liveness', 10, 3),
      },
      name: options.name,
      resources: withDefaultResources(options.resources, PROXY_RESOURCES),
      security: options.security,
      imagePullPolicy: options.imagePullPolicy,
      description: `cloud-sql-proxy for ${instance} on ${hostPort('127.0.0.1', port)}`,
      waitTargets: [WaitTarget.http({ host: '127.0.0.1', port: httpPort, path: '/readiness' })],
      plaintextListener: true,
      credentials: options.credentials
        ? { value: options.credentials, dir: CLOUD_SQL_CREDENTIALS_DIR, file: CLOUD_SQL_CREDENTIALS_FILE }
        : undefined,
    });
  }

  /**
   * A proxy of your own: its pinned image, command and arguments, and the
   * loopback address and port it listens on. It gets the restricted defaults
   * of every step and the proxy resource defaults.
   */
  public static custom(options: CustomDatabaseProxyOptions): DatabaseProxy {
    const owner = 'DatabaseProxy.custom';
    assertPinnedImage(owner, options.image);
    assertPort(owner, options.port);
    const otherPorts = [...options.otherPorts ?? []];
    otherPorts.forEach(p => assertPort(`${owner}: otherPorts`, p));
    const address = options.address ?? '127.0.0.1';
    if (!isLoopback(address)) {
      throw new Error(
        `${owner}: address ${JSON.stringify(address)} is not a loopback address (127.0.0.1, or ::1); a proxy listening ` +
        'there would offer the database, with the proxy\'s credentials, to anything that reaches the pod',
      );
    }
    return new DatabaseProxy({
      image: options.image,
      command: options.command,
      args: options.args,
      env: { ...options.env },
      address,
      port: options.port,
      otherPorts,
      sidecar: { startupProbe: options.startupProbe, livenessProbe: options.livenessProbe, readinessProbe: options.readinessProbe },
      name: options.name,
      resources: withDefaultResources(options.resources, PROXY_RESOURCES),
      security: options.security,
      imagePullPolicy: options.imagePullPolicy,
      description: options.description ?? `database proxy ${options.image} on ${hostPort(address, options.port)}`,
      waitTargets: [],
      plaintextListener: false,
    });
  }

  /** The proxy's image. */
  public readonly image: string;

  /** The loopback address the proxy listens on. */
  public readonly address: string;

  /** The port the proxy listens on for the database protocol. */
  public readonly port: number;

  /** What the proxy is, in words. */
  public readonly description: string;

  private constructor(private readonly spec: ProxySpec) {
    brand(this, DATABASE_PROXY_BRAND);
    this.image = spec.image;
    this.address = spec.address;
    this.port = spec.port;
    this.description = spec.description;
  }

  /** "address:port", what a `DatabaseConnection` through the proxy names. */
  public get endpoint(): string {
    return hostPort(this.address, this.port);
  }

  /**
   * The proxy as a native sidecar step of its own, for a workload that uses
   * the database through it without migrating (e.g. an app that waits for a
   * `MigrationJob`): add it to the workload's `InitSequence` before the steps
   * and containers that connect to it.
   */
  public sidecar(scope: Construct, id: string): InitStep {
    return this._sidecar(scope, id, toDns1123Label(id));
  }

  /**
   * The proxy's sidecar step, named `defaultName` unless the proxy has a name.
   * @internal
   */
  public _sidecar(scope: Construct, id: string, defaultName: string): InitStep {
    return new DatabaseProxySidecar(scope, id, this.spec, this.spec.name ?? defaultName);
  }

  /**
   * What the wait for `database` through this proxy checks: the proxy's
   * listener, and what the proxy offers to say it reaches the database.
   * @internal
   */
  public _waitTargets(database: DatabaseConnection): WaitTarget[] {
    return [database.waitTarget, ...this.spec.waitTargets];
  }

  /**
   * Throws unless a migration of `owner` can reach `database` through this
   * proxy: the connection names the proxy's address and port (so what the
   * manifest says is where the tool connects), with a TLS setting the
   * listener accepts, and something holds the migration until the proxy listens.
   * @internal
   */
  public _assertServes(owner: string, database: DatabaseConnection, waitForDatabase: boolean): void {
    if (database.host !== this.address || database.port !== this.port) {
      throw new Error(
        `${owner}: the migration goes through the proxy (${this.description}), but database is ${database.endpoint}; ` +
        `name the proxy's listener in the DatabaseConnection: new DatabaseConnection({ host: '${this.address}', port: ${this.port}, ... })`,
      );
    }
    if (this.spec.plaintextListener && database.engine === DatabaseEngine.POSTGRESQL && database.sslMode !== 'disable') {
      throw new Error(
        `${owner}: database sslMode is "${database.sslMode}", but the proxy (${this.description}) speaks plain PostgreSQL on ` +
        `${this.endpoint} and encrypts the connection to the instance itself; a client asking it for TLS fails. Give sslMode: 'disable'`,
      );
    }
    if (!waitForDatabase && this.spec.sidecar.startupProbe === undefined) {
      throw new Error(
        `${owner}: waitForDatabase is false and the proxy (${this.description}) has no startupProbe, so nothing holds the migration ` +
        `until the proxy listens on ${this.endpoint}; keep the wait, or give the proxy a startupProbe the kubelet can reach ` +
        '(its probes connect to the pod IP, not to loopback)',
      );
    }
  }
}

/** A proxy's native sidecar: checks, where it is added, that no other container of the pod wants its ports. */
class DatabaseProxySidecar extends InitStep {
  private readonly ports: number[];
  private readonly proxyDescription: string;
  private readonly workloads: kplus.AbstractPod[] = [];

  constructor(scope: Construct, id: string, spec: ProxySpec, name: string) {
    const owner = `DatabaseProxy ${scope.node.path ? `${scope.node.path}/` : ''}${id}`;
    assertDns1123Label(owner, 'container name', name);
    const credentials = spec.credentials ? credentialsMount(scope, id, name, spec.credentials) : [];
    super(scope, id, {
      name,
      image: spec.image,
      imagePullPolicy: spec.imagePullPolicy,
      command: spec.command,
      args: spec.args,
      env: spec.env,
      reads: credentials,
      resources: spec.resources,
      security: spec.security,
      description: spec.description,
      sidecar: spec.sidecar,
    });
    this.ports = [spec.port, ...spec.otherPorts];
    this.proxyDescription = spec.description;
    this.node.addValidation({ validate: () => this.workloads.flatMap(w => this.portClashes(w)) });
  }

  protected onAddedTo(workload: kplus.AbstractPod): void {
    this.workloads.push(workload);
    const model = WorkloadInit.find(workload);
    for (const other of model?.steps ?? []) {
      if (other === this || !(other instanceof DatabaseProxySidecar)) continue;
      const shared = other.ports.filter(p => this.ports.includes(p));
      if (shared.length > 0) {
        throw new Error(
          `DatabaseProxy ${this.node.path}: the proxy "${this.name}" (${this.proxyDescription}) and the proxy "${other.name}" ` +
          `(${other.node.path}) both listen on port ${shared.join(', ')} in workload ${workload.node.path}, and a pod has one network; ` +
          'a proxy keeps running beside the app, so later steps of the pod can use the first one (give them no proxy of their own), ' +
          'or give each proxy its own ports',
        );
      }
    }
  }

  /** Containers of `workload` that declare one of the proxy's ports (checked at synthesis: app containers come later). */
  private portClashes(workload: kplus.AbstractPod): string[] {
    return [...workload.initContainers, ...workload.containers]
      .filter(c => c.name !== this.name)
      .flatMap(c => c.ports.filter(p => this.ports.includes(p.number)).map(p =>
        `the proxy "${this.name}" (${this.proxyDescription}) listens on port ${p.number}, which container "${c.name}" of ` +
        `workload ${workload.node.path} also declares; the containers of a pod share one network, so give one of them another port`,
      ));
  }
}

/** The Secret key mounted read-only as `<dir>/<file>`, in a volume named after the step. */
function credentialsMount(
  scope: Construct, id: string, name: string, credentials: NonNullable<ProxySpec['credentials']>,
): Array<{ volume: SharedVolume; path: string }> {
  const secretVolume = kplus.Volume.fromSecret(scope, `${id}-credentials-volume`, credentials.value.secret, {
    name: suffixedLabel(name, 'credentials'),
    items: { [credentials.value.key]: { path: credentials.file } },
  });
  return [{ volume: new SharedVolume(scope, `${id}-credentials`, { volume: secretVolume }), path: credentials.dir }];
}

/** 127.0.0.0/8 or ::1. */
function isLoopback(address: string): boolean {
  if (typeof address !== 'string') return false;
  if (address === '::1') return true;
  const parts = address.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every(p => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(p));
}
