/**
 * Kubernetes naming rules, in one place.
 *
 * Container and volume names must be DNS-1123 labels: at most 63 characters of
 * lowercase alphanumerics or '-', starting and ending with an alphanumeric.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Maximum length of a DNS-1123 label. */
export const DNS1123_LABEL_MAX = 63;

/** True when `value` is a valid DNS-1123 label. */
export function isDns1123Label(value: string): boolean {
  return value.length <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(value);
}

/**
 * Throws a clear error when `value` is not a DNS-1123 label.
 *
 * @param owner the construct path (or description) named in the error
 * @param what what the value is, e.g. "container name"
 */
export function assertDns1123Label(owner: string, what: string, value: string): void {
  if (!isDns1123Label(value)) {
    throw new Error(
      `${owner}: ${what} ${JSON.stringify(value)} is not a valid DNS-1123 label ` +
      `(at most ${DNS1123_LABEL_MAX} lowercase letters, digits or '-', starting and ending with a letter or digit)`,
    );
  }
}

/**
 * Turns a construct id such as "Init MyService" or "wait_for_db" into a
 * DNS-1123 label ("init-myservice", "wait-for-db").
 *
 * Returns an empty string when nothing usable is left; callers report that.
 */
export function toDns1123Label(id: string): string {
  return id
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, DNS1123_LABEL_MAX)
    .replace(/^-+|-+$/g, '');
}

/**
 * "<base>-<suffix>" as a DNS-1123 label: `base` is shortened (and stripped of
 * trailing '-') so the whole fits in 63 characters.
 */
export function suffixedLabel(base: string, suffix: string): string {
  return `${base.slice(0, DNS1123_LABEL_MAX - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}
