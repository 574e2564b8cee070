import { basename, isAbsolute } from 'node:path';

/** Where a model comes from: a path on the node, or a URL the agent downloads (hf:// resolves to one). */
export type ModelSource =
  | { kind: 'path'; path: string }
  | { kind: 'url'; url: string; fileName: string; display: string };

export class SourceError extends Error {}

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

/**
 * `/abs/path`, `file:///abs/path`, `https://host/file`, `hf://org/repo/file` or
 * `hf://org/repo@revision/dir/file`. `hfEndpoint` replaces https://huggingface.co (HF_ENDPOINT).
 */
export function parseSource(source: string, hfEndpoint = DEFAULT_HF_ENDPOINT): ModelSource {
  if (source.startsWith('hf://')) {
    const rest = source.slice('hf://'.length);
    const [org, repoAndRev, ...file] = rest.split('/');
    if (!org || !repoAndRev || file.length === 0 || file.some((s) => s === '' || s === '..')) {
      throw new SourceError('an hf:// source names a file: hf://org/repo/file.gguf');
    }
    const [repo, revision = 'main'] = repoAndRev.split('@');
    const path = file.map(encodeURIComponent).join('/');
    const url = `${hfEndpoint.replace(/\/+$/, '')}/${org}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
    return { kind: 'url', url, fileName: file[file.length - 1]!, display: source };
  }
  if (/^https?:\/\//.test(source)) {
    let u: URL;
    try {
      u = new URL(source);
    } catch {
      throw new SourceError(`not a valid URL: ${source}`);
    }
    const name = decodeURIComponent(basename(u.pathname)) || 'model';
    return { kind: 'url', url: u.toString(), fileName: name.replace(/[^\w.-]/g, '_'), display: source };
  }
  const path = source.startsWith('file://') ? decodeURIComponent(new URL(source).pathname) : source;
  if (!isAbsolute(path)) throw new SourceError('a local source must be an absolute path');
  return { kind: 'path', path };
}

export function isGgufName(name: string): boolean {
  return /\.gguf$/i.test(name);
}
