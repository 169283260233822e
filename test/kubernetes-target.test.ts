/**
 * The version guard: a native sidecar synthesizes only for a declared
 * Kubernetes version that keeps its restartPolicy (1.29+, or 1.28 with the
 * feature gate acknowledged); undeclared, it fails synthesis.
 */
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { InitSequence, InitStep, KubernetesTarget } from '../src';
import { initContainersOf } from './util/manifest';

/** A Pod in `chart` with one sidecar step, `proxy`. */
function podWithSidecar(chart: Chart): kplus.Pod {
  const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
  InitSequence.of(pod).add(new InitStep(chart, 'proxy', { image: 'proxy:1.0.0', sidecar: {} }));
  return pod;
}

describe('KubernetesTarget', () => {
  test('undeclared: a sidecar fails synthesis, saying why and how to declare the version', () => {
    const chart = new Chart(Testing.app(), 'test');
    podWithSidecar(chart);
    expect(() => Testing.synth(chart)).toThrow(
      'init step "proxy" (test/proxy) is a native sidecar (restartPolicy: Always), which an API server older than 1.28 accepts and drops, ' +
      'leaving an init container that never exits and a pod that never starts; declare the Kubernetes version the manifests are for on ' +
      "the app or chart: new KubernetesTarget(app, 'KubernetesTarget', { version: '1.29' })");
  });

  test('without a sidecar, nothing needs a declaration', () => {
    const chart = new Chart(Testing.app(), 'test');
    const pod = new kplus.Pod(chart, 'pod', { containers: [{ name: 'app', image: 'app:1.0' }] });
    InitSequence.of(pod).add(new InitStep(chart, 'plain', { image: 'busybox:1.36.1' }));
    expect(initContainersOf(Testing.synth(chart))[0].restartPolicy).toBeUndefined();
  });

  test.each(['1.29', '1.30.4', '1.33', '1.34'])('%s allows sidecars', version => {
    const app = Testing.app();
    new KubernetesTarget(app, 'KubernetesTarget', { version });
    const chart = new Chart(app, 'test');
    podWithSidecar(chart);
    expect(initContainersOf(Testing.synth(chart))[0].restartPolicy).toBe('Always');
  });

  test.each(['1.20', '1.27'])('%s: a sidecar fails synthesis, naming the declaration and the version', version => {
    const app = Testing.app();
    new KubernetesTarget(app, 'KubernetesTarget', { version });
    const chart = new Chart(app, 'test');
    podWithSidecar(chart);
    expect(() => Testing.synth(chart)).toThrow(
      `init step "proxy" (test/proxy) is a native sidecar, but KubernetesTarget targets Kubernetes ${version}, whose API server drops ` +
      "an init container's restartPolicy; native sidecars need 1.29 or later (1.28 with the SidecarContainers feature gate)");
  });

  test('1.28 needs the feature gate acknowledged', () => {
    const without = Testing.app();
    new KubernetesTarget(without, 'KubernetesTarget', { version: '1.28' });
    podWithSidecar(new Chart(without, 'test'));
    expect(() => without.synth()).toThrow(
      'KubernetesTarget targets Kubernetes 1.28, where native sidecars need the SidecarContainers feature gate (alpha, off by default); ' +
      'set sidecarContainersFeatureGate: true if every 1.28 cluster has it on, or target 1.29 or later');

    const acknowledged = Testing.app();
    new KubernetesTarget(acknowledged, 'KubernetesTarget', { version: '1.28', sidecarContainersFeatureGate: true });
    const chart = new Chart(acknowledged, 'test');
    podWithSidecar(chart);
    expect(initContainersOf(Testing.synth(chart))[0].restartPolicy).toBe('Always');
  });

  test('a chart\'s declaration wins over the app\'s', () => {
    const app = Testing.app();
    new KubernetesTarget(app, 'KubernetesTarget', { version: '1.30' });
    const old = new Chart(app, 'old');
    new KubernetesTarget(old, 'KubernetesTarget', { version: '1.27' });
    const current = new Chart(app, 'current');
    const [oldPod, currentPod] = [podWithSidecar(old), podWithSidecar(current)];
    expect(KubernetesTarget.of(oldPod)?.version).toBe('1.27');
    expect(KubernetesTarget.of(currentPod)?.version).toBe('1.30');
    // Each pod as its chart renders it (synthesizing either chart validates the whole app).
    expect(() => ApiObject.of(oldPod).toJson()).toThrow('old/KubernetesTarget targets Kubernetes 1.27');
    expect(ApiObject.of(currentPod).toJson().spec.initContainers[0].restartPolicy).toBe('Always');
  });

  test('declared after the step was added still counts: the check runs at synthesis', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'test');
    podWithSidecar(chart);
    new KubernetesTarget(app, 'KubernetesTarget', { version: '1.31' });
    expect(initContainersOf(Testing.synth(chart))[0].restartPolicy).toBe('Always');
  });

  test('bad input fails at construction, naming the path and the value', () => {
    const app = new App();
    expect(() => new KubernetesTarget(app, 'K', { version: '1.3x' })).toThrow('KubernetesTarget K: version "1.3x" is not a Kubernetes version such as "1.30"');
    expect(() => new KubernetesTarget(app, 'K', { version: 'v1.30' })).toThrow('version "v1.30" is not a Kubernetes version');
    expect(() => new KubernetesTarget(app, 'K', { version: '2.0' })).toThrow('version "2.0" is not a Kubernetes version');
    expect(() => new KubernetesTarget(new Chart(app, 'c'), 'K', { version: '1.30', sidecarContainersFeatureGate: true }))
      .toThrow('KubernetesTarget c/K: sidecarContainersFeatureGate is only for Kubernetes 1.28');
    new KubernetesTarget(app, 'First', { version: '1.30' });
    expect(() => new KubernetesTarget(app, 'Second', { version: '1.31' }))
      .toThrow('KubernetesTarget Second: First already declares the Kubernetes version for this scope; declare it once per app or chart');
  });

  test('the minor version is parsed', () => {
    const target = new KubernetesTarget(new App(), 'K', { version: '1.30.4' });
    expect(target.minor).toBe(30);
    expect(target.nativeSidecarProblem).toBeUndefined();
  });
});
