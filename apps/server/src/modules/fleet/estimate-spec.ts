import { parseSource, SourceError } from '@maas/contracts/agent';
import type { OutboundPolicy } from '@maas/outbound';
import type { DbOrTx } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import {
  EstimateUnavailable,
  estimateFromFileSize,
  estimateSource,
  type MemoryEstimate,
  userEstimate,
} from './estimate/index.ts';
import type { DeploymentSpec } from './schema.ts';
import { nodes } from './schema.ts';

const GIB = 1024 ** 3;

/** Checks the source's form (absolute path, https://, hf://org/repo/file); a bad one is a 422. */
export function checkSource(source: string, hfEndpoint: string | undefined): void {
  try {
    parseSource(source, hfEndpoint);
  } catch (err) {
    if (err instanceof SourceError)
      throw new AppError('unprocessable', err.message, undefined, { param: 'source' });
    throw err;
  }
}

/**
 * What one replica of the spec needs, without the internet: the user's figure; else the GGUF
 * header or config.json readable from here (a local file, or a range request to the source's
 * host); else the size a node reported for the file. Null when none of these works: the replicas
 * then stay pending and say so.
 */
export async function estimateSpec(
  db: DbOrTx,
  spec: Omit<DeploymentSpec, 'estimate'>,
  hfEndpoint: string | undefined,
  outbound?: OutboundPolicy,
): Promise<{ estimate: MemoryEstimate | null; note: string | null }> {
  if (spec.resources.gpu_memory_gib !== null) {
    return {
      estimate: userEstimate(Math.round(spec.resources.gpu_memory_gib * GIB), spec.context_length),
      note: null,
    };
  }
  const source = parseSource(spec.source, hfEndpoint);
  try {
    const opts = { contextLength: spec.context_length, ...(outbound ? { outbound } : {}) };
    return { estimate: await estimateSource(source, opts), note: null };
  } catch (err) {
    if (!(err instanceof EstimateUnavailable)) {
      return { estimate: null, note: `could not read the model: ${(err as Error).message}` };
    }
    const reported = (await db.select({ files: nodes.files }).from(nodes))
      .flatMap((n) => n.files)
      .find((f) => f.path === spec.source || f.source === spec.source);
    if (reported) {
      return {
        estimate: estimateFromFileSize(
          reported.size,
          spec.context_length,
          'only the file size is known (reported by a node)',
        ),
        note: null,
      };
    }
    return { estimate: null, note: err.message };
  }
}
