/**
 * Kubernetes naming rules, in one place.
 *
 * Container and volume names must be DNS-1123 labels: at most 63 characters of
 * lowercase alphanumerics or '-', starting and ending with an alphanumeric.
 */

import { memoized } from './step-values';

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
  return dns1123Labels(id);
}

// Every workload of an app has steps and volumes of the same ids: each id is converted once.
const dns1123Labels = memoized((id: string): string => id
  .toLowerCase()
  .replace(/[^a-z0-9-]+/g, '-')
  .replace(/-+/g, '-')
  .slice(0, DNS1123_LABEL_MAX)
  .replace(/^-+|-+$/g, ''));

/**
 * "<base>-<suffix>" as a DNS-1123 label: `base` is shortened (and stripped of
 * trailing '-') so the whole fits in 63 characters.
 */
export function suffixedLabel(base: string, suffix: string): string {
  return `${base.slice(0, DNS1123_LABEL_MAX - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}

/** What `toDns1123Label` makes of `id` without the cut to 63 characters. */
function uncutLabel(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * For an error about two things that got the same label: when the ids (or
 * full names, e.g. `${base}-${suffix}` for `suffixedLabel`) they were derived
 * from differ and only became equal by the cut to 63 characters, a clause
 * saying so, to append to the message; otherwise "".
 */
export function truncationNote(label: string, origins: string[]): string {
  const uncut = [...new Set(origins.map(uncutLabel))];
  // A cut label has 61 to 63 characters (the cut drops at most a '-' at each end);
  // each origin gave the label as it is or was cut, else one was an explicit name.
  const wasCut = label.length >= DNS1123_LABEL_MAX - 2 && uncut.some(u => u.length > DNS1123_LABEL_MAX);
  const derived = uncut.every(u => u === label || u.length > DNS1123_LABEL_MAX);
  if (uncut.length < 2 || !wasCut || !derived) return '';
  const distinct = [...new Set(origins)];
  return ` (${distinct.map(o => JSON.stringify(o)).join(' and ')} differ, but are equal after truncation ` +
    `to ${DNS1123_LABEL_MAX} characters: ${JSON.stringify(label)}; shorten one or give an explicit name)`;
}
