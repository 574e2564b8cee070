/**
 * The wire contract between the server and its node agents (`maas agent`, and the agent inside
 * `maas serve`): the protocol's schemas, the runtime presets' names, parameters and command lines,
 * the environment policy, log redaction and the training channel. Both sides import it from here.
 */
export * from './embedded.ts';
export * from './engine-presets.ts';
export * from './env-policy.ts';
export * from './launch.ts';
export * from './model-source.ts';
export * from './protocol.ts';
export * from './redact.ts';
export * from './runtime-names.ts';
export * from './runtime-parameters.ts';
export * from './training.ts';
export * from './transport.ts';
