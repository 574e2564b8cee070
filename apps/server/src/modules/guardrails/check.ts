import { AppError } from '../../http/app-error.ts';
import { applyMasks, type CompiledGuardrail, type Pipeline, type Stage } from './compile.ts';
import type { Finding } from './pii.ts';
import type { TextSlot } from './text-slots.ts';

/** What a guardrail did to a request: audited for blocks, flags and errors; never the matched text. */
export interface Violation {
  guardrail: CompiledGuardrail;
  stage: Stage;
  /** `pii:email`, `keyword:0`, `pattern:2`, `moderation:unsafe`, `moderation:error` */
  rule: string;
  outcome: 'blocked' | 'flagged' | 'failed_open' | 'failed_closed';
  /** how many spans matched */
  matches: number;
}

export interface CheckDeps {
  /** asks the moderation model; true when it flags the text; throws when it cannot tell */
  classify(guardrail: CompiledGuardrail, text: string, stage: Stage): Promise<boolean>;
  /** records a violation (audit); must not throw */
  report(v: Violation): void;
}

export function blockedError(v: Violation): AppError {
  const where = v.stage === 'input' ? 'request' : 'response';
  return new AppError(
    'content_policy_violation',
    `The ${where} was blocked by guardrail ${v.guardrail.id} (rule ${v.rule}).`,
    undefined,
    { param: v.stage === 'input' ? 'messages' : null },
  );
}

function unavailableError(g: CompiledGuardrail, stage: Stage): AppError {
  return new AppError(
    'guardrail_unavailable',
    `The request was blocked: guardrail ${g.id} could not check the ${stage} (its moderation model failed) and fails closed.`,
  );
}

const applies = (g: CompiledGuardrail, stage: Stage) => (stage === 'input' ? g.input : g.output);

/**
 * The synchronous part of a check (deny lists and PII) over one text: the findings a mask hides,
 * and the first violation that blocks. Flags are reported as they are found.
 */
export function scanText(
  pipeline: Pipeline,
  stage: Stage,
  text: string,
  report: CheckDeps['report'],
): { masks: Finding[]; block: Violation | null } {
  const masks: Finding[] = [];
  for (const g of pipeline.guardrails) {
    if (!g.scan || !applies(g, stage)) continue;
    const found = g.scan(text);
    if (found.length === 0) continue;
    if (g.action === 'mask') masks.push(...found);
    else {
      const v: Violation = {
        guardrail: g,
        stage,
        rule: found[0]!.rule,
        outcome: 'flagged',
        matches: found.length,
      };
      if (g.action === 'block') return { masks, block: { ...v, outcome: 'blocked' } };
      report(v);
    }
  }
  return { masks, block: null };
}

/**
 * Runs every guardrail of the stage over the slots, in pipeline order: masks rewrite the slots in
 * place, a block throws the 400 `content_policy_violation`, a moderation model that fails throws
 * the 503 `guardrail_unavailable` unless the guardrail fails open. Returns whether a slot changed.
 */
export async function checkSlots(
  pipeline: Pipeline,
  stage: Stage,
  slots: TextSlot[],
  deps: CheckDeps,
): Promise<boolean> {
  let changed = false;
  for (const g of pipeline.guardrails) {
    if (!applies(g, stage)) continue;
    if (g.scan) {
      for (const slot of slots) {
        const text = slot.get();
        const found = g.scan(text);
        if (found.length === 0) continue;
        const v: Violation = {
          guardrail: g,
          stage,
          rule: found[0]!.rule,
          outcome: 'flagged',
          matches: found.length,
        };
        if (g.action === 'block') throw refuse({ ...v, outcome: 'blocked' }, deps);
        if (g.action === 'log') deps.report(v);
        else {
          slot.set(applyMasks(text, found));
          changed = true;
        }
      }
      continue;
    }
    const text = slots.map((s) => s.get()).join('\n\n');
    if (text.trim() === '') continue;
    let flagged: boolean;
    try {
      flagged = await deps.classify(g, text, stage);
    } catch {
      const v: Violation = {
        guardrail: g,
        stage,
        rule: 'moderation:error',
        outcome: 'failed_open',
        matches: 0,
      };
      if (g.failOpen) {
        deps.report(v);
        continue;
      }
      deps.report({ ...v, outcome: 'failed_closed' });
      throw unavailableError(g, stage);
    }
    if (!flagged) continue;
    const v: Violation = { guardrail: g, stage, rule: 'moderation:unsafe', outcome: 'flagged', matches: 1 };
    // a moderation verdict has nothing to mask: mask acts as block
    if (g.action === 'log') deps.report(v);
    else throw refuse({ ...v, outcome: 'blocked' }, deps);
  }
  return changed;
}

function refuse(v: Violation, deps: CheckDeps): AppError {
  deps.report(v);
  return blockedError(v);
}
