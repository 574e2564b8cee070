export * from '../modules/audit/schema.ts';
export * from '../modules/identity/schema.ts';
export * from '../modules/keys/schema.ts';
export * from '../modules/metering/schema.ts';
export * from '../modules/providers/schema.ts';
export * from '../modules/registry/schema.ts';
