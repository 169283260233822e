export * from './init-step';
export * from './init-sequence';
export * from './shared-volume';
export * from './step-security';
export * from './steps/wait-target';
export * from './steps/wait-for-service';
export * from './steps/config-source';
export * from './steps/config-fetch-init';
