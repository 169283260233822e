/**
 * A stand-in for the AWS CLI's `aws s3 cp` and `aws s3 sync` (v2) over a local
 * directory acting as S3, for the fetch-s3 script's tests. It decides every
 * answer from real inputs, with the CLI's messages and exit codes:
 * - objects are files: `<root>/<bucket>/<key>`; a bucket is a directory;
 * - credentials are the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY the container
 *   gets, checked against the pairs the test registers (`credentials`);
 * - a bucket policy (`allow`) lists the access key ids that may read it;
 * - the endpoint is down while the test says so (`down`), or when the
 *   container's AWS_ENDPOINT_URL is not the one the test expects (`endpoint`);
 * - only the flags the CLI knows are accepted; `sync` copies without deleting.
 * The container gets it as /usr/local/bin/aws (the aws-cli image's path), and
 * the store read-only at STORE.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Where the container sees the store. */
const STORE = '/var/lib/s3-stand-in';

const SCRIPT = `#!/bin/sh
# Stand-in for aws s3 cp|sync (AWS CLI v2) over ${STORE}/BUCKET/KEY.
store=${STORE}
fatal() { echo "fatal error: $*" >&2; exit 1; }
usage() { printf 'usage: aws [options] <command> <subcommand> [parameters]\\naws: error: %s\\n' "$*" >&2; exit 252; }

[ "\${1:-}" = s3 ] || usage "the stand-in knows only s3"
command=\${2:-}
case "$command" in cp|sync) ;; *) usage "argument subcommand: Invalid choice: '$command'" ;; esac
shift 2
source= target=
for arg in "$@"; do
  case "$arg" in
    --only-show-errors|--no-progress) ;;
    -*) usage "Unknown options: $arg" ;;
    *) if [ -z "$source" ]; then source=$arg; elif [ -z "$target" ]; then target=$arg; else usage "Unknown options: $arg"; fi ;;
  esac
done
[ -n "$target" ] || usage "the following arguments are required: paths"
case "$source" in s3://*) ;; *) usage "the stand-in copies only from s3:// to a local path" ;; esac
bucket=\${source#s3://}; key=\${bucket#*/}; bucket=\${bucket%%/*}
[ "$key" = "$bucket" ] && key=

endpoint=\${AWS_ENDPOINT_URL:-https://s3.amazonaws.com}
if [ -e "$store/.down" ] || { [ -f "$store/.endpoint" ] && [ "$(cat "$store/.endpoint")" != "$endpoint" ]; }; then
  fatal "Could not connect to the endpoint URL: \\"$endpoint/$bucket/$key\\""
fi
[ -n "\${AWS_ACCESS_KEY_ID:-}" ] || fatal "Unable to locate credentials"

# An S3 error as cp reports it (HeadObject: a HEAD answer has no body, so only
# the status, or the key for a 404) or sync (ListObjectsV2: the error's code and message).
s3_error() { # CODE MESSAGE [CP_404_MESSAGE]
  if [ "$command" = cp ]; then
    [ -n "\${3:-}" ] && fatal "An error occurred (404) when calling the HeadObject operation: $3"
    fatal "An error occurred (403) when calling the HeadObject operation: Forbidden"
  fi
  fatal "An error occurred ($1) when calling the ListObjectsV2 operation: $2"
}
secret=$(grep "^$AWS_ACCESS_KEY_ID " "$store/.credentials" 2>/dev/null | cut -d ' ' -f 2-)
[ -n "$secret" ] || s3_error InvalidAccessKeyId "The AWS Access Key Id you provided does not exist in our records."
[ "$secret" = "\${AWS_SECRET_ACCESS_KEY:-}" ] || s3_error SignatureDoesNotMatch "The request signature we calculated does not match the signature you provided. Check your key and signing method."
[ -d "$store/$bucket" ] || s3_error NoSuchBucket "The specified bucket does not exist" "Not Found"
if [ -f "$store/.allow-$bucket" ] && ! grep -qx "$AWS_ACCESS_KEY_ID" "$store/.allow-$bucket"; then
  s3_error AccessDenied "Access Denied"
fi

if [ "$command" = cp ]; then
  [ -f "$store/$bucket/$key" ] || s3_error NoSuchKey "The specified key does not exist." "Key \\"$key\\" does not exist"
  [ -d "$target" ] && target="$target/\${key##*/}"
  cp "$store/$bucket/$key" "$target" || fatal "download failed: $source to $target"
  exit 0
fi
# sync: every object whose key starts with the prefix; a prefix with none copies nothing and succeeds.
[ -d "$store/$bucket/$key" ] || exit 0
cd "$store/$bucket/$key" || exit 1
find . -type f | while read -r file; do
  file=\${file#./}
  mkdir -p "$target/$(dirname "$file")" && cp "$file" "$target/$file" || { echo "download failed: s3://$bucket/$key$file to $target/$file" >&2; exit 1; }
done
`;

/** A local S3 for one test. */
export interface S3StandIn {
  /** The store on the host: `<root>/<bucket>/<key>`. */
  readonly root: string;
  /** Pass as `runContainer`'s `mounts`: the stand-in as /usr/local/bin/aws, and the store. */
  readonly mounts: Record<string, string>;
  /** Creates a bucket. */
  bucket(name: string): void;
  /** Stores an object, creating its bucket. */
  put(bucket: string, key: string, body: string): void;
  /** Deletes an object. */
  delete(bucket: string, key: string): void;
  /** Registers an access key pair. */
  credentials(accessKeyId: string, secretAccessKey: string): void;
  /** Lets only these access key ids read the bucket. */
  allow(bucket: string, accessKeyIds: string[]): void;
  /** Accepts only this endpoint URL (AWS_ENDPOINT_URL); other endpoints cannot be reached. */
  endpoint(url: string): void;
  /** Makes the endpoint unreachable (transient failures) or reachable again. */
  down(isDown: boolean): void;
}

/** A fresh, empty store and the stand-in `aws` that serves it. */
export function s3StandIn(): S3StandIn {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 's3-store-'));
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 's3-bin-'));
  // The step runs as an unprivileged uid: the store must be readable by all.
  fs.chmodSync(root, 0o755);
  fs.chmodSync(bin, 0o755);
  fs.writeFileSync(path.join(bin, 'aws'), SCRIPT, { mode: 0o755 });
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(file, text, { mode: 0o644 });
  };
  return {
    root,
    mounts: { '/usr/local/bin': bin, [STORE]: root },
    bucket: name => fs.mkdirSync(path.join(root, name), { recursive: true, mode: 0o755 }),
    put: (bucket, key, body) => write(path.join(root, bucket, key), body),
    delete: (bucket, key) => fs.rmSync(path.join(root, bucket, key)),
    credentials: (id, secret) => fs.appendFileSync(path.join(root, '.credentials'), `${id} ${secret}\n`, { mode: 0o644 }),
    allow: (bucket, ids) => write(path.join(root, `.allow-${bucket}`), ids.map(id => `${id}\n`).join('')),
    endpoint: url => write(path.join(root, '.endpoint'), url),
    down: isDown => {
      if (isDown) write(path.join(root, '.down'), '');
      else fs.rmSync(path.join(root, '.down'), { force: true });
    },
  };
}
