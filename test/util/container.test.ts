/**
 * The harness itself: a script run through runContainer sees what it would see
 * in a pod, so the script tests prove what happens in a cluster.
 */
import * as fs from 'fs';
import * as path from 'path';
import { emptyDir, forEachBusybox, runContainer, runScript, testContainers } from './container';
import { containerArgv, containerEnv, expand } from './kubelet';

const restricted = {
  runAsUser: 65532,
  runAsGroup: 65532,
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

describe('kubelet expansion (Kubernetes third_party/forked/golang/expansion)', () => {
  const vars: Record<string, string> = { VAR_A: 'A', EMPTY: '' };
  const lookup = (n: string) => vars[n];
  test.each([
    ['$(VAR_A)', 'A'],
    ['___$(VAR_A)___', '___A___'],
    ['$(EMPTY)x', 'x'],
    ['$(UNDEFINED)', '$(UNDEFINED)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$$', '$$'],
    ['$$', '$'],
    ['$', '$'],
    ['a$b', 'a$b'],
    ['$(VAR_A', '$(VAR_A'],
    ['$()', '$()'],
    ['tmp.$$', 'tmp.$'],
    ['$(( 1 + 2 ))', '$(( 1 + 2 ))'],
  ])('%j becomes %j', (input, output) => {
    expect(expand(input, lookup)).toBe(output);
  });

  test('env values see only the variables defined before them; command and args see all', () => {
    const container = {
      name: 'c',
      command: ['sh', '-c', 'echo $(LATER) $(FIRST) $$'],
      args: ['$(SECRET)'],
      env: [
        { name: 'FIRST', value: 'one' },
        { name: 'SECOND', value: '$(FIRST)-$(LATER)' },
        { name: 'LATER', value: 'three' },
        { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
    };
    const env = containerEnv(container, { SECRET: 's3cr3t' });
    expect(env).toEqual({ FIRST: 'one', SECOND: 'one-$(LATER)', LATER: 'three', SECRET: 's3cr3t' });
    expect(containerArgv(container, env)).toEqual(['sh', '-c', 'echo three one $', 's3cr3t']);
    expect(() => containerEnv(container, {})).toThrow('env SECRET comes from');
  });
});

forEachBusybox(busybox => {
  test('a restricted step is PID 1, uid/gid 65532 with no capabilities, no_new_privs, a read-only root and only loopback', async () => {
    const r = await runScript([
      'echo "pid=$$ id=$(id -u):$(id -g) groups=$(id -G)"',
      'grep -E "^(CapEff|CapPrm|CapBnd|NoNewPrivs)" /proc/self/status',
      'touch /probe 2>/dev/null && echo root-writable || echo root-read-only',
      'cut -d: -f1 /proc/net/dev | tail -n +3 | tr -d " "',
      'echo "PATH=$PATH HOME=$HOME"',
    ].join('; '), [], { busybox });
    expect(r.code).toBe(0);
    expect(r.output).toContain('pid=1 id=65532:65532 groups=65532');
    expect(r.output).toMatch(/CapEff:\s+0{16}/);
    expect(r.output).toMatch(/CapBnd:\s+0{16}/);
    expect(r.output).toMatch(/NoNewPrivs:\s+1/);
    expect(r.output).toContain('root-read-only');
    expect(r.output).toMatch(/^lo$/m);
    expect(r.output.split('\n').filter(l => /^[a-z0-9]+$/.test(l) && !l.startsWith('root'))).toEqual(['lo']);
    expect(r.output).toContain('PATH=/usr/local/bin:/bin HOME=/');
  });

  test('a root step gets exactly the capabilities its context adds', async () => {
    const r = await runContainer({
      name: 'chown',
      command: ['sh', '-c', 'id -u; grep CapEff /proc/self/status'],
      securityContext: { runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['CHOWN', 'FOWNER'] } },
    }, { busybox, pod: {} });
    expect(r.code).toBe(0);
    // CAP_CHOWN is bit 0, CAP_FOWNER bit 3.
    expect(r.output).toMatch(/^0\nCapEff:\s+0{15}9$/m);
  });

  test('volumes are mounted at their paths as the kubelet leaves them, read-only where the mount says so', async () => {
    const pod = { securityContext: { fsGroup: 2000 }, volumes: [{ name: 'data', emptyDir: {} }, { name: 'conf', configMap: { name: 'c' } }] };
    // A configMap volume: root-owned, world-readable files.
    const conf = fs.mkdtempSync(path.join(emptyDir(), 'conf-'));
    fs.chmodSync(conf, 0o755);
    fs.writeFileSync(path.join(conf, 'app.conf'), 'x=1\n', { mode: 0o644 });
    const r = await runContainer({
      name: 'step',
      command: ['sh', '-c', 'stat -c "%a %u:%g" /data; id -G; touch /data/new && stat -c "%g" /data/new; cat /etc/app/app.conf; touch /etc/app/y 2>&1 || echo conf-read-only'],
      securityContext: restricted,
      volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'conf', mountPath: '/etc/app', readOnly: true }],
    }, { busybox, pod, volumes: { conf } });
    expect(r.code).toBe(0);
    expect(r.output.split('\n').slice(0, 4)).toEqual(['2777 0:2000', '65532 2000', '2000', 'x=1']);
    expect(r.lastLine).toBe('conf-read-only');
  });

  test('as PID 1, a shell without a handler ignores SIGTERM (what every waiting script must handle)', async () => {
    const r = await runScript('sleep 3; echo finished', [], { busybox, sigtermAfterMs: 300 });
    expect(r.lastLine).toBe('finished');
    expect(r.exitAfterSigtermMs).toBeGreaterThan(2000);
  });

  test('a run is killed after killAfterMs, with everything in its PID namespace', async () => {
    const r = await runScript('sleep 30 & sleep 30', [], { busybox, killAfterMs: 500 });
    expect(r.code).toBe(137);
    expect(r.ms).toBeLessThan(5000);
  });
});

testContainers('a manifest literal cannot be overridden by a test', async () => {
  await expect(runContainer({ name: 'c', command: ['sh'], env: [{ name: 'A', value: '1' }] }, { env: { A: '2' } }))
    .rejects.toThrow('env A is set in the manifest');
});
