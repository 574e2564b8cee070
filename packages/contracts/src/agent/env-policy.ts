/**
 * Which environment variables a runtime may see. Shared by the server (it refuses loader variables
 * in a deployment's `env`, for everyone) and the agent (it starts runtimes with an allow-listed
 * environment, never its own).
 */

/** Variables that make a loader, interpreter or shell run code of the caller's choosing. */
const LOADER_NAMES = new Set([
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_REPL_EXTERNAL_MODULE',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'LD_AUDIT',
  'LD_DEBUG_OUTPUT',
  'LD_PROFILE',
  'PYTHONPATH',
  'PYTHONSTARTUP',
  'PYTHONHOME',
  'PYTHONUSERBASE',
  'PYTHONINSPECT',
  'PYTHONBREAKPOINT',
  'PERL5LIB',
  'PERL5OPT',
  'PERLLIB',
  'RUBYLIB',
  'RUBYOPT',
  'BASH_ENV',
  'ENV',
  'PROMPT_COMMAND',
  'SHELLOPTS',
  'IFS',
  'GCONV_PATH',
  'MALLOC_CONF',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'GIT_SSH_COMMAND',
]);
const LOADER_PREFIXES = ['DYLD_', 'LD_', 'BASH_FUNC_'];

/** Is this a loader variable? Refused in a deployment's env, for platform admins too. */
export function isLoaderVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return LOADER_NAMES.has(upper) || LOADER_PREFIXES.some((p) => upper.startsWith(p));
}

/** The agent's own variables a runtime inherits: locale, paths, temp dir and GPU device settings. */
const HOST_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'VIRTUAL_ENV',
  'CONDA_PREFIX',
]);
/**
 * Loader variables the node's operator may have set for the agent itself (CUDA libraries are often
 * found through LD_LIBRARY_PATH): passed on from the agent's environment, never taken from a deployment.
 */
const HOST_LOADER_NAMES = new Set(['LD_LIBRARY_PATH']);
const HOST_PREFIXES = ['LC_', 'CUDA_', 'NVIDIA_', 'ROCR_', 'HIP_', 'HSA_', 'ROCM_'];
/** Model caches a preset may need (never tokens: HF_TOKEN stays with the agent). */
const CACHE_NAMES = new Set([
  'HF_HOME',
  'HF_HUB_CACHE',
  'HF_HUB_OFFLINE',
  'HUGGINGFACE_HUB_CACHE',
  'TRANSFORMERS_CACHE',
  'XDG_CACHE_HOME',
  'TORCH_HOME',
  'TRITON_CACHE_DIR',
  'VLLM_CACHE_ROOT',
  'NODE_LLAMA_CPP_SKIP_DOWNLOAD',
]);

/** Is the agent's own variable passed on to runtimes? Never anything of maas's (MAAS_*). */
export function inheritable(name: string): boolean {
  if (name.startsWith('MAAS_')) return false;
  if (HOST_LOADER_NAMES.has(name)) return true;
  if (isLoaderVariable(name)) return false;
  return HOST_NAMES.has(name) || CACHE_NAMES.has(name) || HOST_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * The environment of a runtime: the allow-listed part of the agent's, then what the adapter and the
 * deployment set (loader variables dropped even there; the server refuses MAAS_* names in a
 * deployment's env), then `extra` (set by the agent itself).
 */
export function runtimeEnv(
  host: Record<string, string | undefined>,
  launch: Record<string, string>,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(host)) if (v !== undefined && inheritable(k)) env[k] = v;
  for (const [k, v] of Object.entries(launch)) if (!isLoaderVariable(k)) env[k] = v;
  return { ...env, ...extra };
}
