/**
 * How the fake upstream behaves for one request: the base options, overridden by every fault rule
 * that matches the request (in order). A rule with `times` applies to the next N matching requests.
 */
export interface Behavior {
  /** delay before the status line and headers are sent */
  latencyMs: number;
  /** streams: delay between the headers and the first event */
  firstByteDelayMs: number;
  /** streams: delay between two events */
  chunkDelayMs: number;
  /** number of content chunks in a stream, and of completion tokens in any answer (capped by max_tokens) */
  chunks: number;
  /** false: behave like an upstream that never reports usage (no `usage` in bodies or streams) */
  usage: boolean;
  /** answer with this HTTP error status (e.g. 500, 503, 429) and an error body */
  status?: number;
  /** seconds, sent as `Retry-After` with an error status */
  retryAfter?: number;
  /** message of the error body */
  message?: string;
  /** destroy the socket before any byte is sent, or right after the headers */
  reset?: 'before-headers' | 'after-headers';
  /** never answer: the client times out (the socket is destroyed on close()) */
  hang?: boolean;
  /** streams: emit an unparsable `data:` line after the first event */
  malformedSse?: boolean;
  /** streams: stop after K events, without usage and without `[DONE]` */
  cutAfterChunks?: number;
  /** answer a stream request with a plain JSON body, as some servers do */
  ignoreStream?: boolean;
  /** how a cut stream stops: end the response cleanly (default) or destroy the socket */
  cut?: 'end' | 'reset';
  /** images asked for as `url`: answer with this URL (default: one on 127.0.0.1 that nothing serves) */
  imageUrl?: string;
}

export interface FaultRule extends Partial<Behavior> {
  /** only requests whose body names this model */
  model?: string;
  /** only requests to this path (e.g. `/v1/chat/completions`) */
  path?: string;
  /** only the next N matching requests; unlimited when absent */
  times?: number;
}

export const DEFAULT_BEHAVIOR: Behavior = {
  latencyMs: 0,
  firstByteDelayMs: 0,
  chunkDelayMs: 0,
  chunks: 20,
  usage: true,
};

export interface FaultBook {
  /** replaces all rules */
  set(rules: FaultRule | FaultRule[] | null | undefined): void;
  add(rule: FaultRule): void;
  /** the behavior for one request; consumes one use of each matching rule that has `times` */
  resolve(base: Behavior, path: string, model: string | undefined): Behavior;
}

export function createFaultBook(initial?: FaultRule | FaultRule[]): FaultBook {
  // one mutable list per fake upstream instance, owned by it
  let rules: { rule: FaultRule; left: number }[] = [];
  const book: FaultBook = {
    set(next) {
      const list = next == null ? [] : Array.isArray(next) ? next : [next];
      rules = list.map((rule) => ({ rule, left: rule.times ?? Number.POSITIVE_INFINITY }));
    },
    add(rule) {
      rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
    },
    resolve(base, path, model) {
      if (rules.length === 0) return base;
      let behavior = base;
      for (const entry of rules) {
        const { rule } = entry;
        if (entry.left <= 0) continue;
        if (rule.model !== undefined && rule.model !== model) continue;
        if (rule.path !== undefined && rule.path !== path) continue;
        entry.left -= 1;
        const { model: _m, path: _p, times: _t, ...override } = rule;
        behavior = { ...behavior, ...override };
      }
      rules = rules.filter((entry) => entry.left > 0);
      return behavior;
    },
  };
  book.set(initial);
  return book;
}
