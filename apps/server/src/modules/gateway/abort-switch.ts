import { EventEmitter } from 'node:events';

/**
 * What aborts the attempt in flight (upstream call or backoff pause): an EventEmitter that undici
 * accepts as `signal`. An AbortController is an EventTarget and costs several times more to make
 * and to listen on, once per request on the hot path.
 */
export class AbortSwitch extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}
