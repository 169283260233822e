/**
 * Builds the package of one cdk8s-plus line from src/: `ts-node projenrc/build-line.ts 33`
 * writes build/plus-33/, a copy of src/ and assets/ in which every import of
 * 'cdk8s-plus-27' names 'cdk8s-plus-33' and the line module (src/private/line/)
 * points at `./plus-28`, then compiles it with jsii as the package
 * cdk8s-init-plus-33. cdk8s-plus-<line> resolves from the repo's node_modules
 * (a devDependency), so one install serves every line.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DESIGN_LINE, FIRST_SIDECAR_LINE, lineDir, packageName, PLUS_LINES, plusPackage } from './lines';

const ROOT = path.join(__dirname, '..');
const DESIGN_IMPORT = `'${plusPackage(DESIGN_LINE)}'`;
const LINE_MODULE = path.join('src', 'private', 'line');

/** Copies src/ for `line`, rewriting its imports; returns how many files import cdk8s-plus. */
function copySource(line: number, dir: string): number {
  let rewritten = 0;
  const copy = (from: string, to: string) => {
    fs.mkdirSync(to, { recursive: true });
    for (const entry of fs.readdirSync(from, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const source = path.join(from, entry.name);
      if (entry.isDirectory()) { copy(source, path.join(to, entry.name)); continue; }
      if (!entry.name.endsWith('.ts')) continue;
      let text = fs.readFileSync(source, 'utf8');
      if (text.includes(DESIGN_IMPORT)) {
        text = text.split(DESIGN_IMPORT).join(`'${plusPackage(line)}'`);
        rewritten++;
      }
      fs.writeFileSync(path.join(to, entry.name), text);
    }
  };
  copy(path.join(ROOT, 'src'), path.join(dir, 'src'));
  if (line >= FIRST_SIDECAR_LINE) {
    const index = path.join(dir, LINE_MODULE, 'index.ts');
    const text = fs.readFileSync(index, 'utf8');
    if (!text.includes("from './plus-27';")) throw new Error(`${index}: expected "export * from './plus-27';" to point at the line's module`);
    fs.writeFileSync(index, text.replace("from './plus-27';", "from './plus-28';"));
    fs.rmSync(path.join(dir, LINE_MODULE, 'plus-27.ts'));
  } else {
    fs.rmSync(path.join(dir, LINE_MODULE, 'plus-28.ts'));
  }
  return rewritten;
}

/** package.json of the line's package: the design package's, with the line's name and cdk8s-plus. */
function packageJson(line: number): object {
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const version = PLUS_LINES.find(l => l.line === line)!.plusVersion;
  const peers = { ...root.peerDependencies };
  delete peers[plusPackage(DESIGN_LINE)];
  return {
    name: packageName(line),
    description: `${root.description} (cdk8s-plus-${line}, Kubernetes 1.${line})`,
    repository: root.repository,
    bin: root.bin,
    author: root.author,
    keywords: root.keywords,
    license: root.license,
    version: root.version,
    main: root.main,
    types: root.types,
    stability: root.stability,
    peerDependencies: { ...peers, [plusPackage(line)]: `^${version}` },
    // jsii wants each peer pinned as a devDependency: the versions this repo builds with.
    devDependencies: { ...Object.fromEntries(Object.keys(peers).map(name => [name, root.devDependencies[name]])), [plusPackage(line)]: version },
    jsii: root.jsii,
  };
}

function build(line: number): void {
  if (line === DESIGN_LINE) throw new Error(`cdk8s-plus-${line} is the design line: its package is the repo itself (npx projen compile)`);
  if (!PLUS_LINES.some(l => l.line === line)) throw new Error(`cdk8s-plus-${line} is not a supported line (${PLUS_LINES.map(l => l.line).join(', ')})`);
  const dir = path.join(ROOT, lineDir(line));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const rewritten = copySource(line, dir);
  if (rewritten === 0) throw new Error(`no file in src/ imports ${DESIGN_IMPORT}; nothing would tie the package to cdk8s-plus-${line}`);
  fs.cpSync(path.join(ROOT, 'assets'), path.join(dir, 'assets'), { recursive: true });
  for (const file of ['README.md', 'LICENSE', 'tsconfig.json']) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  // The design line's build excludes the later lines' module; this build has only that one.
  const tsconfig = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8'));
  tsconfig.exclude = ['node_modules'];
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(packageJson(line), null, 2) + '\n');
  fs.writeFileSync(path.join(dir, '.npmignore'), ['/src/', '/tsconfig.json', '*.ts', '!*.d.ts', '!.jsii', ''].join('\n'));
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'jsii'), [], { cwd: dir, stdio: 'inherit' });
  console.log(`${packageName(line)}: ${path.relative(ROOT, dir)} (${rewritten} files import cdk8s-plus-${line})`);
}

const lines = process.argv.slice(2).map(Number);
for (const line of lines.length > 0 ? lines : PLUS_LINES.map(l => l.line).filter(l => l !== DESIGN_LINE)) build(line);
