import { compileDenyList, type DenyListConfig } from './deny-list.ts';
import { type Finding, findPii, PII_ENTITIES, type PiiEntity } from './pii.ts';
import type { guardrails } from './schema.ts';

export type GuardrailRow = typeof guardrails.$inferSelect;
export type Stage = 'input' | 'output';

/** A guardrail ready for the request path: its checks compiled once, when it is loaded. */
export interface CompiledGuardrail {
  id: string;
  orgId: string;
  name: string;
  kind: GuardrailRow['kind'];
  action: GuardrailRow['action'];
  input: boolean;
  output: boolean;
  failOpen: boolean;
  /** PII and deny lists: every span that matches, synchronously */
  scan: ((text: string) => Finding[]) | null;
  /** moderation: the registry model that classifies */
  moderationModel: string | null;
  /** changes whenever the guardrail does (part of response cache keys) */
  stamp: string;
}

/** Guardrails in the order they run: deny lists, then PII, then moderation (it sees masked text). */
export interface Pipeline {
  guardrails: CompiledGuardrail[];
  fingerprint: string;
  /** an output moderation check: a stream's answer is checked whole before the client gets it */
  moderatesOutput: boolean;
  checksOutput: boolean;
}

const ORDER = { deny_list: 0, pii: 1, moderation: 2 } as const;

export function compileGuardrail(row: GuardrailRow): CompiledGuardrail {
  const config = row.config;
  let scan: CompiledGuardrail['scan'] = null;
  if (row.kind === 'pii') {
    const entities = new Set<PiiEntity>((config.entities as PiiEntity[] | undefined) ?? PII_ENTITIES);
    scan = (text) => findPii(text, entities);
  } else if (row.kind === 'deny_list') {
    scan = compileDenyList({
      keywords: (config.keywords as string[] | undefined) ?? [],
      patterns: (config.patterns as string[] | undefined) ?? [],
      case_sensitive: config.case_sensitive === true,
    } satisfies DenyListConfig);
  }
  return {
    id: row.id,
    orgId: row.orgId,
    name: row.name,
    kind: row.kind,
    action: row.action,
    input: row.stages.includes('input'),
    output: row.stages.includes('output'),
    failOpen: row.failOpen,
    scan,
    moderationModel: row.kind === 'moderation' ? String(config.model ?? '') : null,
    stamp: `${row.id}@${row.updatedAt.getTime()}`,
  };
}

export function pipelineOf(list: CompiledGuardrail[]): Pipeline {
  const sorted = [...new Map(list.map((g) => [g.id, g])).values()].sort(
    (a, b) => ORDER[a.kind] - ORDER[b.kind] || a.id.localeCompare(b.id),
  );
  return {
    guardrails: sorted,
    fingerprint: sorted.map((g) => g.stamp).join(','),
    moderatesOutput: sorted.some((g) => g.output && g.kind === 'moderation'),
    checksOutput: sorted.some((g) => g.output),
  };
}

/** The text with each finding replaced by its mask (overlapping findings merged). */
export function applyMasks(text: string, findings: Finding[]): string {
  const sorted = [...findings].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const f of sorted) {
    if (f.end <= at) continue;
    out += text.slice(at, Math.max(at, f.start));
    if (f.start >= at) out += f.mask;
    at = f.end;
  }
  return out + text.slice(at);
}
