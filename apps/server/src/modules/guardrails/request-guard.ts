import type { StreamTranslator } from '../gateway/index.ts';
import { type CheckDeps, checkSlots, type Violation } from './check.ts';
import type { Pipeline } from './compile.ts';
import { guardStream } from './stream-guard.ts';
import { answerSlots, requestSlots } from './text-slots.ts';

/**
 * The guardrails of one /v1 request (the model's and the key's): its input before routing, its
 * answer before it leaves (whole, or incrementally on a stream).
 */
export class RequestGuard {
  /**
   * a stream request whose answer a moderation model must see whole: the upstream is asked without
   * streaming, and the checked answer is sent to the client as a stream
   */
  replayAsStream = false;

  constructor(
    readonly pipeline: Pipeline,
    private readonly deps: CheckDeps,
    private readonly onOutputBlock: (v: Violation) => void,
  ) {}

  get fingerprint(): string {
    return this.pipeline.fingerprint;
  }

  /** Masks the body in place, or throws the 400 (block) or the 503 (a failing check that fails closed). */
  async checkInput(body: Record<string, unknown>): Promise<void> {
    await checkSlots(this.pipeline, 'input', requestSlots(body), this.deps);
  }

  /** The answer's bytes, masked when a guardrail masks; throws when one blocks. */
  async checkAnswer(body: Buffer | string): Promise<Buffer | string> {
    if (!this.pipeline.checksOutput) return body;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
    } catch {
      return body;
    }
    const changed = await checkSlots(this.pipeline, 'output', answerSlots(parsed), this.deps);
    return changed ? JSON.stringify(parsed) : body;
  }

  wrapStream(translator: StreamTranslator): StreamTranslator {
    if (!this.pipeline.checksOutput) return translator;
    return guardStream(translator, this.pipeline, this.deps.report, this.onOutputBlock);
  }
}
