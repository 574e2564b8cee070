export { type Agent, type AgentOptions, createAgent } from './agent.ts';
export { embeddedAgent } from './embedded.ts';
export { discoverGpus } from './gpu/discover-gpus.ts';
export { parseNvidiaSmi } from './gpu/parse-nvidia-smi.ts';
export { parseRocmSmi } from './gpu/parse-rocm-smi.ts';
export { AgentHttpError, createHttpTransport, type HttpTransportOptions } from './http-transport.ts';
export { availableRuntimes, runtimes } from './runtimes/index.ts';
export { AGENT_VERSION } from './version.ts';
