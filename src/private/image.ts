/**
 * Container image references: an init step must pin its image to a tag or a
 * digest, because an unpinned image makes the pod start whatever was pushed last.
 */

import { memoized } from './step-values';

// The images the steps use, in one place; the public static members
// (`ConfigSource.CURL_IMAGE`, `WaitForService.DEFAULT_IMAGE`, ...) refer to these.

/** busybox `sh`, `awk`, `nc`, `nslookup`, `wget`, `timeout`: the build the scripts are tested under. */
export const BUSYBOX_IMAGE = 'busybox:1.36.1';
/** curl 8.x on Alpine (so also busybox `sh`, `nc`, `nslookup`, `sha256sum`). */
export const CURL_IMAGE = 'curlimages/curl:8.11.1';
/** git and busybox. */
export const GIT_IMAGE = 'alpine/git:v2.45.1';
/** The AWS CLI v2. */
export const AWS_CLI_IMAGE = 'amazon/aws-cli:2.17.0';
/** openssl and busybox `sh`. */
export const OPENSSL_IMAGE = 'alpine/openssl:3.3.2';

// [registry[:port]/]repository[:tag][@algorithm:hex] — the grammar of the
// distribution reference, restricted to what a pinned reference needs.
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const REGISTRY = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The parts of an image reference. */
interface ImageReference {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

function parseImage(image: string): ImageReference | undefined {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let path = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash > 0) {
    const first = rest.slice(0, firstSlash);
    // As in Docker: the first component is a registry when it has a '.' or ':' or is "localhost".
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      if (!REGISTRY.test(first)) return undefined;
      path = rest.slice(firstSlash + 1);
    }
  }
  if (!REPOSITORY.test(path)) return undefined;
  if (tag !== undefined && !TAG.test(tag)) return undefined;
  if (digest !== undefined && !DIGEST.test(digest)) return undefined;
  return { repository: rest, tag, digest };
}

/** True when `image` is a well-formed reference pinned to a non-latest tag or a digest. */
export function isPinnedImage(image: string): boolean {
  const ref = parseImage(image);
  return ref !== undefined && (ref.digest !== undefined || (ref.tag !== undefined && ref.tag !== 'latest'));
}

/**
 * Throws a clear error unless `image` is a well-formed reference pinned to a
 * tag other than "latest", or to a sha256 digest.
 *
 * @param owner the construct path named in the error
 */
export function assertPinnedImage(owner: string, image: string): void {
  if (image === undefined || image === null || image.trim() === '') {
    throw new Error(`${owner}: image is empty; give a pinned image such as "busybox:1.36.1"`);
  }
  const problem = pinnedImageProblem(image);
  if (problem) throw new Error(`${owner}: image ${JSON.stringify(image)} ${problem}`);
}

/** What is wrong with `image` as a pinned reference, or undefined: the same image is checked once. */
const pinnedImageProblem = memoized((image: string): string | undefined => {
  const ref = parseImage(image);
  if (!ref) return 'is not a valid image reference';
  if (ref.digest) return undefined;
  if (ref.tag === undefined) return 'has no tag; pin it to a version tag or a sha256 digest (untagged means "latest")';
  if (ref.tag === 'latest') return 'uses the "latest" tag; pin it to a version tag or a sha256 digest';
  return undefined;
});
