import type { StreamTranslator } from '../gateway/index.ts';
import { blockedError, type CheckDeps, scanText, type Violation } from './check.ts';
import { applyMasks, type Pipeline } from './compile.ts';
import { eventSlots } from './text-slots.ts';

/** Characters of generated text held back per choice: a match shorter than this never leaves in part. */
export const HOLD_BACK_CHARS = 128;

type Json = Record<string, unknown>;
interface Lane {
  pending: string;
  /** the last event that carried text on this lane, and the lines before its data line */
  template: Json;
  head: string;
}

/**
 * Output guardrails on a stream, incrementally: the text of each choice is held back by
 * HOLD_BACK_CHARS and scanned before it is released, so a masked span leaves masked and a blocked
 * one never leaves; a block ends the stream with an error event (the rest of the upstream's stream
 * is read and dropped, so its usage is still metered). Works on the bytes the client receives
 * (OpenAI chunks or Anthropic events).
 */
export function guardStream(
  inner: StreamTranslator,
  pipeline: Pipeline,
  report: CheckDeps['report'],
  onBlock: (v: Violation) => void,
): StreamTranslator {
  let buf = '';
  let blocked = false;
  let anthropic = false;
  const lanes = new Map<number, Lane>();

  const frame = (head: string, event: Json) => `${head}data: ${JSON.stringify(event)}\n\n`;

  const block = (v: Violation): string => {
    blocked = true;
    lanes.clear();
    report(v);
    onBlock(v);
    const err = blockedError(v);
    return anthropic
      ? `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: err.message } })}\n\n`
      : `data: ${JSON.stringify({ error: { message: err.message, type: err.type, param: null, code: err.code } })}\n\n`;
  };

  /** Releases what is safe on a lane (everything when `final`); a string to send, or a block. */
  const release = (laneId: number, lane: Lane, final: boolean): string => {
    const { masks, block: v } = scanText(pipeline, 'output', lane.pending, report);
    if (v) return block(v);
    let cut = final ? lane.pending.length : Math.max(0, lane.pending.length - HOLD_BACK_CHARS);
    for (const f of masks) if (f.start < cut && f.end > cut) cut = f.start;
    if (cut === 0) return '';
    const text = applyMasks(
      lane.pending.slice(0, cut),
      masks.filter((f) => f.end <= cut),
    );
    lane.pending = lane.pending.slice(cut);
    const event = structuredClone(lane.template);
    for (const s of eventSlots(event)) s.slot.set(s.lane === laneId ? text : '');
    return frame(lane.head, event);
  };

  const flushAll = (): string => {
    let out = '';
    for (const [id, lane] of lanes) {
      out += release(id, lane, true);
      if (blocked) return out;
    }
    lanes.clear();
    return out;
  };

  const onFrame = (raw: string): string => {
    const at = raw.startsWith('data:') ? 0 : raw.indexOf('\ndata:') + 1;
    const data = at > 0 || raw.startsWith('data:') ? raw.slice(at + 5).trim() : '';
    let event: Json | null = null;
    if (data.startsWith('{')) {
      try {
        event = JSON.parse(data) as Json;
      } catch {}
    }
    const slots = event ? eventSlots(event) : [];
    if (!event || slots.length === 0) {
      if (event && typeof event.type === 'string') anthropic = true;
      const before = flushAll();
      return blocked ? before : `${before}${raw}\n\n`;
    }
    if (typeof event.type === 'string') anthropic = true;
    const head = raw.slice(0, at);
    let out = '';
    let emitted = false;
    for (const { lane: id, slot } of slots) {
      const text = slot.get();
      let lane = lanes.get(id);
      if (!lane) {
        lane = { pending: '', template: event, head };
        lanes.set(id, lane);
      }
      lane.pending += text;
      lane.template = event;
      lane.head = head;
      const released = release(id, lane, false);
      if (blocked) return out + released;
      if (released || text === '') {
        // the first event of a choice (role, empty content) goes out as it came
        out += released || (emitted ? '' : `${raw}\n\n`);
        emitted = true;
      }
    }
    return out;
  };

  const process = (chunk: Buffer | string | null): string => {
    if (chunk === null || blocked) return '';
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let out = '';
    for (;;) {
      const m = /\r?\n\r?\n/.exec(buf);
      if (!m) break;
      const raw = buf.slice(0, m.index);
      buf = buf.slice(m.index + m[0].length);
      if (raw.trim() !== '') out += onFrame(raw);
      if (blocked) break;
    }
    return out;
  };

  return {
    push(chunk) {
      const out = process(inner.push(chunk));
      return out === '' ? null : out;
    },
    end() {
      let out = process(inner.end());
      if (!blocked) {
        if (buf.trim() !== '') out += onFrame(buf);
        buf = '';
        if (!blocked) out += flushAll();
      }
      return out === '' ? null : out;
    },
    get usage() {
      return inner.usage;
    },
    get complete() {
      return blocked || inner.complete;
    },
    completionText: () => inner.completionText(),
  };
}
