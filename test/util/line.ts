/**
 * The cdk8s-plus line a jest run tests. `npm test` runs the suite once per line
 * (test/lines/plus-<line>.jest.json maps cdk8s-plus-27 and ../src to the line's
 * cdk8s-plus and its built package) and says which in CDK8S_PLUS_LINE.
 */
import { DESIGN_LINE } from '../../projenrc/lines';

/** The line under test. */
export const PLUS_LINE = Number(process.env.CDK8S_PLUS_LINE ?? DESIGN_LINE);

/**
 * Whether this is the design line's run, the one that also runs the generated
 * scripts in containers. The later lines' runs prove their init containers
 * equal the design line's (test/examples.test.ts), so running the same
 * scripts again would prove nothing new.
 */
export const RUNS_CONTAINERS = PLUS_LINE === DESIGN_LINE;

export { DESIGN_LINE };
