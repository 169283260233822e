export * from './init-step';
export * from './init-sequence';
export * from './shared-volume';
export * from './step-security';
