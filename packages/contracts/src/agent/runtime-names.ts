/** The runtimes an agent can run; kept apart from the protocol so the CLI can list them cheaply. */
export const RUNTIMES = ['llama-cpp', 'vllm', 'sglang', 'ollama', 'custom'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];
