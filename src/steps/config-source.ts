import * as kplus from 'cdk8s-plus-27';
import { normalizeUrl } from '../private/endpoint';
import { assertScriptVariables, assertSecretKey } from '../private/env';
import type { WrittenFile } from '../private/file-readers';
import { brand, CONFIG_SOURCE_BRAND } from '../private/identity';
import * as images from '../private/image';
import { literalEnv, literalValues } from '../private/kubelet-literal';
import { assertDistinctOutputs, assertRelativePath, fileModeString } from '../private/mount-paths';
import { memoized } from '../private/step-values';
import { SharedVolume, SharedVolumeMount } from '../shared-volume';

/**
 * One file fetched over HTTP(S).
 */
export interface HttpFile {
  /**
   * http:// or https:// URL (the scheme in any case). Credentials never go in
   * the URL: use `authHeader`.
   */
  readonly url: string;

  /**
   * Path of the file in the volume, relative, e.g. "app.yaml" or "certs/ca.pem";
   * no two files of a source at the same path or one inside another.
   */
  readonly path: string;

  /**
   * Expected SHA-256 of the content (64 hex digits, either case). A mismatch fails the step,
   * naming both digests; a file already present with this digest is not fetched again.
   *
   * @default - not verified
   */
  readonly sha256?: string;

  /**
   * File mode, e.g. 0o440.
   *
   * @default 0o644
   */
  readonly mode?: number;
}

/**
 * A request header whose value comes from a Secret.
 */
export interface SecretHeader {
  /** The Secret holding the header value. */
  readonly secret: kplus.ISecret;

  /** Key in the Secret. */
  readonly key: string;

  /**
   * Header name.
   *
   * @default "Authorization"
   */
  readonly header?: string;
}

/**
 * Options of an HTTP(S) source.
 */
export interface HttpSourceOptions {
  /** Files to fetch. */
  readonly files: HttpFile[];

  /**
   * A header sent with every request to the scheme, host and port of the
   * file's URL, its value from a Secret (e.g. "Bearer …" under
   * "Authorization"); never to a redirect target elsewhere.
   *
   * @default - none
   */
  readonly authHeader?: SecretHeader;
}

/**
 * HTTPS credentials for a Git repository, from a Secret.
 */
export interface GitCredentials {
  /** The Secret. */
  readonly secret: kplus.ISecret;

  /**
   * Key of the user name.
   *
   * @default "username"
   */
  readonly usernameKey?: string;

  /**
   * Key of the password or token.
   *
   * @default "password"
   */
  readonly passwordKey?: string;
}

/**
 * Options of a Git source.
 */
export interface GitSourceOptions {
  /** Repository: https://, http://, ssh://, file:// URL or an absolute path. */
  readonly repository: string;

  /** A tag, or a full 40-hex commit id. Branches are refused: they are not pinned. */
  readonly revision: string;

  /**
   * Directory inside the repository to use instead of the whole tree.
   *
   * @default - the whole repository
   */
  readonly subPath?: string;

  /**
   * Directory of the volume to fill.
   *
   * @default - the repository name, e.g. "config" for ".../config.git"
   */
  readonly directory?: string;

  /**
   * HTTPS credentials.
   *
   * @default - anonymous
   */
  readonly credentials?: GitCredentials;
}

/**
 * AWS credentials from a Secret.
 */
export interface AwsCredentials {
  /** The Secret. */
  readonly secret: kplus.ISecret;

  /**
   * Key of the access key id.
   *
   * @default "AWS_ACCESS_KEY_ID"
   */
  readonly accessKeyIdKey?: string;

  /**
   * Key of the secret access key.
   *
   * @default "AWS_SECRET_ACCESS_KEY"
   */
  readonly secretAccessKeyKey?: string;
}

/**
 * Options of an S3 source.
 */
export interface S3SourceOptions {
  /** "s3://bucket/key" for one object, or "s3://bucket/prefix/" (ending in "/") for all objects under a prefix. */
  readonly uri: string;

  /** File (object) or directory (prefix) of the volume to fill, relative. */
  readonly path: string;

  /**
   * File mode of a single object.
   *
   * @default 0o644
   */
  readonly mode?: number;

  /**
   * AWS region.
   *
   * @default - from the environment (e.g. the node's or IRSA's settings)
   */
  readonly region?: string;

  /**
   * Endpoint URL for S3-compatible stores such as MinIO.
   *
   * @default - AWS S3
   */
  readonly endpoint?: string;

  /**
   * Credentials from a Secret.
   *
   * @default - the pod's service account (IRSA or EKS Pod Identity)
   */
  readonly credentials?: AwsCredentials;
}

/**
 * One file rendered from a template.
 */
export interface TemplateFile {
  /** Template file name in the templates volume (e.g. a ConfigMap key). */
  readonly template: string;

  /** Path of the rendered file in the output volume, relative. */
  readonly path: string;

  /**
   * File mode.
   *
   * @default 0o644
   */
  readonly mode?: number;
}

/**
 * Options of a template source.
 */
export interface TemplateSourceOptions {
  /**
   * Where the templates are: a pre-populated shared volume, typically
   * `new SharedVolume(this, 'templates', { volume: kplus.Volume.fromConfigMap(...) })`
   * or from a Secret.
   */
  readonly templates: SharedVolume;

  /** Files to render. */
  readonly files: TemplateFile[];

  /**
   * The variables substituted for `${NAME}` (or `${NAME:-default}`): literal
   * values, `EnvValue.fromSecretValue`, `EnvValue.fromFieldRef` (pod IP, ...).
   * Only these names are replaced; any other `$…` is left as it is.
   */
  readonly variables: { [name: string]: kplus.EnvValue };
}

/**
 * A source resolved for one step: what the container runs and mounts.
 * @internal
 */
export interface BoundConfigSource {
  readonly image: string;
  readonly scripts: string[];
  readonly env: { [name: string]: kplus.EnvValue };
  readonly reads: SharedVolumeMount[];
  readonly outputs: string[];
  /** The files written with a mode, for the check that the app can read them. */
  readonly files: WrittenFile[];
  readonly description: string;
}

/** Where the step mounts what it reads (templates). */
const SOURCE_MOUNT = '/var/run/cdk8s-init/in';

/**
 * Where a `ConfigFetchInit` gets its files from.
 */
export class ConfigSource {
  /** The image of HTTP(S) sources: curl 8.x (certificates verified) with busybox `sh` and `sha256sum`. */
  public static readonly CURL_IMAGE: string = images.CURL_IMAGE;

  /** The image of Git sources: git with busybox. */
  public static readonly GIT_IMAGE: string = images.GIT_IMAGE;

  /** The image of S3 sources: the AWS CLI v2. */
  public static readonly AWS_CLI_IMAGE: string = images.AWS_CLI_IMAGE;

  /** The image of template sources: busybox `sh` and `awk`. */
  public static readonly BUSYBOX_IMAGE: string = images.BUSYBOX_IMAGE;

  /**
   * Files over HTTP(S), with optional checksums and an auth header from a Secret.
   * HTTPS certificates are verified (curl). Up to 10 redirects are followed; a
   * redirect from https to http is refused.
   */
  public static http(options: HttpSourceOptions): ConfigSource {
    return new ConfigSource(owner => bindHttp(owner, options));
  }

  /**
   * A Git repository at a pinned tag or commit, shallow, with an optional sub-path.
   * A missing repository (HTTP 404, a path without one) fails at once; git
   * accepts a local path only when the step's uid owns it.
   */
  public static git(options: GitSourceOptions): ConfigSource {
    return new ConfigSource(owner => bindGit(owner, options));
  }

  /**
   * An S3 object or prefix. A prefix with no objects fails (a misspelled prefix
   * would otherwise leave an empty directory).
   */
  public static s3(options: S3SourceOptions): ConfigSource {
    return new ConfigSource(owner => bindS3(owner, options));
  }

  /**
   * Templates from a ConfigMap or Secret, rendered with declared variables.
   */
  public static template(options: TemplateSourceOptions): ConfigSource {
    return new ConfigSource(owner => bindTemplate(owner, options));
  }

  private constructor(private readonly binder: (owner: string) => BoundConfigSource) {
    brand(this, CONFIG_SOURCE_BRAND);
  }

  /**
   * Validates the source for the step `owner` and resolves it.
   * @internal
   */
  public _bind(owner: string): BoundConfigSource {
    return this.binder(owner);
  }
}

const SHA256 = /^[a-fA-F0-9]{64}$/;
const HTTP_SCHEMES = ['http', 'https'];
/** `normalizeUrl` of an HTTP(S) file's URL, each URL checked once: every workload of an app may fetch the same files. */
const httpUrl = memoized((url: string, owner: string) => normalizeUrl(owner, url, HTTP_SCHEMES));
const REVISION = /^[A-Za-z0-9._][A-Za-z0-9._/-]*$/;

/** `{ secret, key }` as an env var, the key checked first. */
function secretEnv(owner: string, what: string, secret: kplus.ISecret, key: string): kplus.EnvValue {
  assertSecretKey(owner, what, key);
  return kplus.EnvValue.fromSecretValue({ secret, key });
}

function bindHttp(owner: string, options: HttpSourceOptions): BoundConfigSource {
  const files = options.files ?? [];
  if (files.length === 0) throw new Error(`${owner}: give at least one file`);
  const urls = files.map(f => typeof f.url === 'string' ? httpUrl(f.url, owner) : normalizeUrl(owner, f.url, HTTP_SCHEMES));
  const lines = files.map((f, i) => {
    assertRelativePath(owner, 'path', f.path);
    if (f.sha256 !== undefined && !SHA256.test(f.sha256)) {
      throw new Error(`${owner}: sha256 ${JSON.stringify(f.sha256)} of ${f.path} is not 64 hex digits`);
    }
    // sha256sum prints lower case, and the script compares strings.
    return `${f.path} ${fileModeString(owner, f.mode ?? 0o644)} ${f.sha256?.toLowerCase() ?? '-'} ${urls[i]}`;
  });
  assertDistinctOutputs(owner, 'path', files.map(f => f.path));
  const env: { [name: string]: kplus.EnvValue } = { FETCH_FILES: literalEnv(lines.join('\n')) };
  if (options.authHeader) {
    const header = options.authHeader.header ?? 'Authorization';
    if (!/^[A-Za-z0-9-]+$/.test(header)) throw new Error(`${owner}: header name ${JSON.stringify(header)} is not a valid HTTP header name`);
    env.FETCH_AUTH_HEADER = literalEnv(header);
    env.FETCH_AUTH_VALUE = secretEnv(owner, 'authHeader.key', options.authHeader.secret, options.authHeader.key);
  }
  return {
    image: ConfigSource.CURL_IMAGE,
    scripts: ['lib.sh', 'fetch-lib.sh', 'fetch-http.sh'],
    env,
    reads: [],
    outputs: files.map(f => f.path),
    files: files.map(f => ({ path: f.path, mode: f.mode ?? 0o644 })),
    description: `fetches ${urls.join(', ')}`,
  };
}

function bindGit(owner: string, options: GitSourceOptions): BoundConfigSource {
  let repo = options.repository;
  if (typeof repo === 'string' && repo.startsWith('/')) {
    assertRelativePath(owner, 'repository path', repo.slice(1));
  } else {
    repo = normalizeUrl(owner, repo, ['https', 'http', 'ssh', 'file']);
  }
  const revision = options.revision;
  if (typeof revision !== 'string' || !REVISION.test(revision) || revision.includes('..') || revision.endsWith('.lock') || revision.endsWith('/')) {
    throw new Error(`${owner}: revision ${JSON.stringify(revision)} is not a valid tag name or commit id`);
  }
  if (/^[0-9a-f]{7,39}$/.test(revision)) {
    throw new Error(`${owner}: revision ${JSON.stringify(revision)} looks like an abbreviated commit id; give all 40 hex digits`);
  }
  if (options.subPath !== undefined) assertRelativePath(owner, 'subPath', options.subPath);
  const directory = options.directory ?? repo.replace(/\/+$/, '').split('/').pop()!.replace(/\.git$/, '');
  assertRelativePath(owner, 'directory', directory);
  const env: { [name: string]: kplus.EnvValue } = {
    GIT_REPOSITORY: literalEnv(repo),
    GIT_REF: literalEnv(revision),
    GIT_DIRECTORY: literalEnv(directory),
  };
  if (options.subPath) env.GIT_SUBPATH = literalEnv(options.subPath);
  if (options.credentials) {
    const { secret } = options.credentials;
    env.GIT_USERNAME = secretEnv(owner, 'credentials.usernameKey', secret, options.credentials.usernameKey ?? 'username');
    env.GIT_PASSWORD = secretEnv(owner, 'credentials.passwordKey', secret, options.credentials.passwordKey ?? 'password');
  }
  return {
    image: ConfigSource.GIT_IMAGE,
    scripts: ['lib.sh', 'fetch-lib.sh', 'fetch-git.sh'],
    env,
    reads: [],
    outputs: [directory],
    // A checkout's files are created with the step's umask (0644, 0755): readable by every uid.
    files: [],
    description: `fetches ${repo}@${revision}${options.subPath ? ` (${options.subPath})` : ''}`,
  };
}

function bindS3(owner: string, options: S3SourceOptions): BoundConfigSource {
  if (typeof options.uri !== 'string' || !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9!\-_.*'()/]*)?$/.test(options.uri)) {
    throw new Error(`${owner}: uri ${JSON.stringify(options.uri)} must be s3://bucket/key or s3://bucket/prefix/ (keys of letters, digits and !-_.*'()/)`);
  }
  assertRelativePath(owner, 'path', options.path);
  const env: { [name: string]: kplus.EnvValue } = {
    S3_URI: literalEnv(options.uri),
    S3_PATH: literalEnv(options.path),
    S3_MODE: literalEnv(fileModeString(owner, options.mode ?? 0o644)),
  };
  if (options.region !== undefined) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(options.region)) throw new Error(`${owner}: region ${JSON.stringify(options.region)} is not an AWS region name`);
    env.AWS_REGION = literalEnv(options.region);
  }
  if (options.endpoint !== undefined) {
    env.AWS_ENDPOINT_URL = literalEnv(normalizeUrl(owner, options.endpoint, ['https', 'http']));
  }
  if (options.credentials) {
    const { secret } = options.credentials;
    env.AWS_ACCESS_KEY_ID = secretEnv(owner, 'credentials.accessKeyIdKey', secret, options.credentials.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID');
    env.AWS_SECRET_ACCESS_KEY = secretEnv(owner, 'credentials.secretAccessKeyKey', secret, options.credentials.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY');
  }
  return {
    image: ConfigSource.AWS_CLI_IMAGE,
    scripts: ['lib.sh', 'fetch-lib.sh', 'fetch-s3.sh'],
    env,
    reads: [],
    outputs: [options.path],
    files: [{ path: options.path, mode: options.mode ?? 0o644 }],
    description: `fetches ${options.uri}`,
  };
}

function bindTemplate(owner: string, options: TemplateSourceOptions): BoundConfigSource {
  const files = options.files ?? [];
  if (files.length === 0) throw new Error(`${owner}: give at least one template file`);
  if (!(options.templates instanceof SharedVolume)) throw new Error(`${owner}: templates must be a SharedVolume`);
  const lines = files.map(f => {
    assertRelativePath(owner, 'template', f.template);
    assertRelativePath(owner, 'path', f.path);
    return `${f.template} ${f.path} ${fileModeString(owner, f.mode ?? 0o644)}`;
  });
  assertDistinctOutputs(owner, 'path', files.map(f => f.path));
  const names = Object.keys(options.variables ?? {});
  assertScriptVariables(owner, 'template variable', names, ['RENDER_', 'FETCH_']);
  return {
    image: ConfigSource.BUSYBOX_IMAGE,
    scripts: ['lib.sh', 'fetch-lib.sh', 'render-template.sh'],
    env: {
      // Substituted as data: `$(NAME)` and `$$` in a literal value stay as they are.
      ...literalValues(options.variables),
      RENDER_SRC: literalEnv(SOURCE_MOUNT),
      RENDER_FILES: literalEnv(lines.join('\n')),
      RENDER_VARS: literalEnv(names.join(' ')),
    },
    reads: [{ volume: options.templates, path: SOURCE_MOUNT }],
    outputs: files.map(f => f.path),
    files: files.map(f => ({ path: f.path, mode: f.mode ?? 0o644 })),
    description: `renders ${files.map(f => f.template).join(', ')} with ${names.join(', ') || 'no variables'}`,
  };
}
