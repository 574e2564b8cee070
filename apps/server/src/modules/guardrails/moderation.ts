import type { KeyPrincipal } from '../../http/principal.ts';
import { newId } from '../../ids.ts';
import type { CompiledGuardrail, Stage } from './compile.ts';

/** Marks the principal of a moderation call: guardrails never apply to their own checks. */
export const GUARDRAIL_CALL = Symbol.for('maas.guardrails.call');

export type RunChat = (input: {
  key: KeyPrincipal;
  body: Record<string, unknown>;
  requestId: string;
}) => Promise<{ status: number; body: unknown }>;

/**
 * A moderation model in the registry, called through the gateway (admission, routing, metering on
 * the calling key) as a chat classifier in the Llama Guard manner: the text goes as the user's turn,
 * the model answers `safe` or `unsafe` (then categories). Any other answer, or a failed call, is an
 * error: the guardrail fails closed unless it opted to fail open.
 */
export function createModerationClassifier(runChat: RunChat) {
  return async function classify(
    g: CompiledGuardrail,
    text: string,
    _stage: Stage,
    caller: KeyPrincipal,
  ): Promise<boolean> {
    // the caller's key, without its model list: the guardrail's owner chose this model
    const key = { ...caller, models: null, [GUARDRAIL_CALL]: true } as KeyPrincipal;
    const res = await runChat({
      key,
      requestId: newId('req'),
      body: {
        model: g.moderationModel,
        messages: [{ role: 'user', content: text }],
        max_tokens: 16,
        temperature: 0,
      },
    });
    if (res.status !== 200) throw new Error(`moderation model answered ${res.status}`);
    const answer = (res.body as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message
      ?.content;
    const verdict = typeof answer === 'string' ? answer.trim().split(/\s+/)[0]?.toLowerCase() : undefined;
    if (verdict === 'safe') return false;
    if (verdict === 'unsafe') return true;
    throw new Error('moderation model gave no verdict');
  };
}

export type Classifier = ReturnType<typeof createModerationClassifier>;
