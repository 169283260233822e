import type { StepSecurity } from '../step-security';

/**
 * Waivers are pod annotations, one per waived rule and container, whose value
 * is the reason (as a cdk-nag suppression names one rule and gives a reason):
 *
 *   <container>.waivers.cdk8s-init.io/<rule>[.<item>]: <reason>
 *   waivers.cdk8s-init.io/<rule>: <reason>        (a rule about the whole pod)
 *
 * The container name goes in the key's prefix (a DNS subdomain, so a 63-character
 * container name fits) and the rule in its name (at most 63 characters), so every
 * key is a valid annotation key. `<item>` narrows a rule to one thing, e.g.
 * `capabilities.CHOWN`; a waiver of the bare rule covers all its items.
 */
const WAIVER_DOMAIN = 'waivers.cdk8s-init.io';

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** The annotation key that waives `rule` (and `item`) for `container`, or for the pod when it is undefined. */
export function waiverKey(container: string | undefined, rule: string, item?: string): string {
  const name = item !== undefined && isNamePart(`${rule}.${item}`) ? `${rule}.${item}` : rule;
  return `${container === undefined ? '' : `${container}.`}${WAIVER_DOMAIN}/${name}`;
}

/** The pod annotations that record the waivers of the step container `container`. */
export function waiverAnnotations(security: StepSecurity, container: string): Record<string, string> {
  return Object.fromEntries(security.waivedRules.map(rule => [waiverKey(container, rule), security.optOutReason!]));
}

/** Whether the pod's annotations waive `rule` (or just its `item`) for `container`, or for the pod. */
export function isWaived(annotations: Record<string, string>, container: string | undefined, rule: string, item?: string): boolean {
  return waiverKey(container, rule) in annotations || (item !== undefined && waiverKey(container, rule, item) in annotations);
}

/** The distinct reasons of the waivers recorded for `container`. */
export function waiverReasons(annotations: Record<string, string>, container: string): string[] {
  const prefix = `${container}.${WAIVER_DOMAIN}/`;
  return [...new Set(Object.entries(annotations).filter(([k]) => k.startsWith(prefix)).map(([, v]) => v))];
}

function isNamePart(name: string): boolean {
  return name.length <= 63 && NAME_PART.test(name);
}
