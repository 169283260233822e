/**
 * Runs the repo's TypeScript (examples, benchmarks) against the package of
 * another cdk8s-plus line: after `useLine(33)`, a require of 'cdk8s-plus-27'
 * loads cdk8s-plus-33, and a require of a file under src/ loads its compiled
 * twin in build/plus-33/lib/ (projenrc/build-line.ts), the code that line's
 * users install. Jest does the same with moduleNameMapper (test/lines/).
 */
import * as fs from 'fs';
import * as nodeModule from 'module';
import * as path from 'path';
import { DESIGN_LINE, lineDir, PLUS_LINES, plusPackage } from './lines';

const ROOT = path.join(__dirname, '..');

/** The line named by `--line <n>` in `argv`, else the design line. */
export function lineArgument(argv: string[]): number {
  const at = argv.indexOf('--line');
  if (at < 0) return DESIGN_LINE;
  const line = Number(argv[at + 1]);
  if (!PLUS_LINES.some(l => l.line === line)) {
    throw new Error(`--line ${argv[at + 1]}: not a supported cdk8s-plus line (${PLUS_LINES.map(l => l.line).join(', ')})`);
  }
  return line;
}

/** From now on, load `line`'s cdk8s-plus and cdk8s-init package in place of cdk8s-plus-27 and src/. */
export function useLine(line: number): void {
  if (line === DESIGN_LINE) return;
  const lib = path.join(ROOT, lineDir(line), 'lib');
  if (!fs.existsSync(path.join(lib, 'index.js'))) {
    throw new Error(`${lineDir(line)} is not built: run \`npx ts-node --project projenrc/tsconfig.json projenrc/build-line.ts ${line}\``);
  }
  const src = path.join(ROOT, 'src');
  const resolve = (nodeModule.Module as any)._resolveFilename;
  (nodeModule.Module as any)._resolveFilename = function (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) {
    let target = request;
    if (request === plusPackage(DESIGN_LINE)) {
      target = plusPackage(line);
    } else if (request.startsWith('.') && parent?.filename) {
      const file = path.resolve(path.dirname(parent.filename), request);
      if (file === src || file.startsWith(src + path.sep)) target = path.join(lib, path.relative(src, file));
    }
    return resolve.call(this, target, parent, ...rest);
  };
}
