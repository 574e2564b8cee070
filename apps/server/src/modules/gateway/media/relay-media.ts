import type { MediaUsage } from '../../metering/index.ts';
import type { AttemptResult, Relay } from '../attempt.ts';
import { drained } from '../drained.ts';
import { clientGone, failure } from '../failures.ts';
import { responseHeaders } from '../response-headers.ts';

/** An answer that is not what the endpoint promises: another target may do better. */
function badAnswer(relay: Relay, message: string): AttemptResult {
  relay.verdict = 'fail';
  return { kind: 'retry', failure: failure('unavailable', 502, 'upstream_error', message) };
}

/** Reads the whole answer; null with the attempt's result set when reading failed. */
async function readWhole(relay: Relay): Promise<Buffer | AttemptResult> {
  try {
    return await relay.res.whole(relay.gw.maxResponseBytes);
  } catch (err) {
    return relay.failed(err);
  }
}

/** Sends a whole answer with the upstream's content type; the units it proved are billed. */
function send(relay: Relay, buf: Buffer, contentType: string, units: MediaUsage): AttemptResult {
  const { state, pick, reply } = relay;
  relay.verdict = 'ok';
  if (state.clientGone) return { kind: 'fail', failure: clientGone() };
  state.billable = true;
  state.media!.actual = units;
  state.ttftMs = Math.round(performance.now() - state.startedAt);
  state.committed = true;
  reply
    .code(200)
    .headers(responseHeaders(state, pick, performance.now() - relay.started))
    .header('content-type', contentType)
    .send(buf);
  return { kind: 'done' };
}

/**
 * Images: OpenAI's `{created, data: [{b64_json | url, revised_prompt}]}` goes back unchanged; each
 * item is one image billed. A `url` is the upstream's: maas hands it on and never fetches it.
 */
export async function relayImages(relay: Relay): Promise<AttemptResult> {
  const buf = await readWhole(relay);
  if (!Buffer.isBuffer(buf)) return buf;
  let data: unknown;
  try {
    data = (JSON.parse(buf.toString('utf8')) as { data?: unknown })?.data;
  } catch {
    data = undefined;
  }
  if (!Array.isArray(data))
    return badAnswer(relay, 'The upstream answered with something that is not an image list.');
  const estimate = relay.state.media!.estimate;
  return send(relay, buf, 'application/json', { ...estimate, images: data.length });
}

/**
 * Transcripts and translations in any response_format (json, text, srt, verbose_json, vtt) go back
 * as the upstream wrote them. Billed by the seconds verbose_json reports, else by the file's own.
 */
export async function relayTranscript(relay: Relay): Promise<AttemptResult> {
  const buf = await readWhole(relay);
  if (!Buffer.isBuffer(buf)) return buf;
  const type = relay.res.headers['content-type'];
  const contentType = typeof type === 'string' ? type : 'application/json';
  const estimate = relay.state.media!.estimate;
  let audioMs = estimate.audioMs;
  if (contentType.includes('json')) {
    try {
      const duration = (JSON.parse(buf.toString('utf8')) as { duration?: unknown })?.duration;
      if (typeof duration === 'number' && Number.isFinite(duration) && duration >= 0)
        audioMs = Math.round(duration * 1000);
    } catch {
      // not JSON after all: the file's duration stands
    }
  }
  return send(relay, buf, contentType, { ...estimate, audioMs });
}

/**
 * Speech: the audio streams back as it arrives, with the upstream's content type. Until its first
 * bytes a failure may still be retried; after them the characters are billed however it ends.
 */
export async function relaySpeech(relay: Relay): Promise<AttemptResult> {
  const { state, pick, reply } = relay;
  const chunks = relay.res.chunks();
  let first: IteratorResult<Buffer>;
  try {
    first = await chunks.next();
  } catch (err) {
    return relay.failed(err);
  }
  if (first.done) return badAnswer(relay, 'The upstream answered with no audio.');
  relay.stopTimer();
  if (state.clientGone) {
    relay.verdict = 'neutral';
    return { kind: 'fail', failure: clientGone() };
  }
  const type = relay.res.headers['content-type'];
  reply.hijack();
  const headers = reply.getHeaders() as Record<string, string>;
  headers['content-type'] = typeof type === 'string' ? type : 'audio/mpeg';
  const own = responseHeaders(state, pick, performance.now() - relay.started);
  for (const name in own) headers[name] = own[name]!;
  const raw = reply.raw;
  raw.writeHead(200, headers);
  state.committed = true;
  state.billable = true;
  state.media!.actual = state.media!.estimate;
  state.ttftMs = Math.round(performance.now() - state.startedAt);
  let broken = false;
  try {
    if (!raw.write(first.value)) await drained(raw);
    while (!state.clientGone) {
      const next = await chunks.next();
      if (next.done) break;
      if (!raw.write(next.value)) await drained(raw);
    }
  } catch {
    broken = true;
  }
  if (state.clientGone) {
    relay.verdict = 'neutral';
    state.outcome = 'client_abort';
    state.errorCode = 'client_closed_request';
    return { kind: 'done' };
  }
  if (broken) {
    // a binary body has no error frame: the client sees the connection cut short
    relay.verdict = 'fail';
    state.outcome = 'upstream_error';
    state.errorCode = 'upstream_error';
    raw.destroy();
    return { kind: 'done' };
  }
  relay.verdict = 'ok';
  raw.end();
  return { kind: 'done' };
}
