/**
 * What differs between cdk8s-plus lines, in one place. src/ is compiled against
 * cdk8s-plus-27 with `./plus-27`; the package of every later line is built
 * from the same tree with this export pointing at `./plus-28`
 * (projenrc/build-line.ts), so each line uses its own API.
 */
export * from './plus-27';
