/**
 * The cdk8s-plus lines cdk8s-init is built for. One source tree (src/, written
 * against cdk8s-plus-27, the line the library was designed on) becomes one npm
 * package per line, `cdk8s-init-plus-<line>`, whose only difference is the
 * cdk8s-plus it imports and, for lines 28 and later, the line module
 * (src/private/line/): see projenrc/build-line.ts.
 */
export interface PlusLine {
  /** The line: its package is cdk8s-plus-<line>, and it targets Kubernetes 1.<line>. */
  readonly line: number;
  /** The cdk8s-plus release it is built and tested against (a devDependency, exact). */
  readonly plusVersion: string;
}

/** The line src/ is written against; its package is built in place (lib/). */
export const DESIGN_LINE = 27;

export const PLUS_LINES: PlusLine[] = [
  // End of life since 2024 (its last release); kept first-class as the line the library was designed on.
  { line: 27, plusVersion: '2.9.5' },
  // The three lines cdk8s-plus maintains; `cdk8s init typescript-app` (cdk8s-cli 2.207) starts on 33.
  { line: 32, plusVersion: '2.5.92' },
  { line: 33, plusVersion: '2.5.57' },
  { line: 34, plusVersion: '2.0.54' },
];

/** The npm package of cdk8s-init for `line`. */
export function packageName(line: number): string {
  return `cdk8s-init-plus-${line}`;
}

/** The cdk8s-plus package of `line`. */
export function plusPackage(line: number): string {
  return `cdk8s-plus-${line}`;
}

/** Where the package of a line other than the design line is built (gitignored). */
export function lineDir(line: number): string {
  return `build/plus-${line}`;
}

/** The first line whose cdk8s-plus has native sidecars (`ContainerRestartPolicy`); the line module differs from there on. */
export const FIRST_SIDECAR_LINE = 28;
