import type { Logger } from 'pino';
import type { Db } from '../../../db/client.ts';
import type { KeyPrincipal } from '../../../http/principal.ts';
import type { JobEngine } from '../../jobs/index.ts';
import type { UsageEvent, UsageWriter } from '../../metering/index.ts';
import type { GatewayContext } from '../context.ts';
import { createBackgroundResponses } from './background.ts';
import type { StreamOutcome } from './chat-stream-to-events.ts';
import type { FileSearchPort } from './file-search.ts';
import type { ResponseOutcome } from './from-chat.ts';
import { type PreparedResponse, prepareResponse } from './prepare-request.ts';
import { type ResponseRecord, toResponseObject } from './response-object.ts';
import { createResponseStore } from './response-store.ts';

export interface ResponsesDeps {
  db: Db;
  jobs: JobEngine;
  gw: GatewayContext;
  log: Logger;
  /** stored responses are kept this many days (default 30) */
  retentionDays?: number;
  /** the sweeper deletes expired responses this often (ms; default an hour) */
  sweepIntervalMs?: number;
  /** background responses run as the key is now (null once revoked or expired) */
  currentKey?: ((keyId: string) => KeyPrincipal | null) | undefined;
}

const DAY_MS = 86_400_000;

/**
 * The Responses API's state and work: stored responses (per org and project, kept `retentionDays`
 * and swept), the gateway context whose usage events carry the endpoint label `responses`, and
 * background responses on the job engine.
 */
export function createResponses(deps: ResponsesDeps) {
  const store = createResponseStore(deps.db);
  const retentionMs = (deps.retentionDays ?? 30) * DAY_MS;
  const log = deps.log.child({ module: 'responses' });
  // the same gateway path as /v1/chat/completions; its one usage event is labelled `responses`
  const gw: GatewayContext = {
    ...deps.gw,
    usage: {
      write: (event: UsageEvent) => deps.gw.usage.write({ ...event, endpoint: 'responses' }),
    } as unknown as UsageWriter,
  };
  const background = createBackgroundResponses({
    jobs: deps.jobs,
    store,
    gw,
    log,
    currentKey: deps.currentKey,
  });
  let timer: NodeJS.Timeout | null = null;
  let fileSearch: FileSearchPort | null = null;

  const sweep = async () => {
    const removed = await store.sweep();
    if (removed > 0) log.info({ removed }, 'expired responses swept');
    return removed;
  };

  return {
    gw,
    store,
    background,
    sweep,
    prepare: (key: KeyPrincipal, raw: unknown): Promise<PreparedResponse> =>
      prepareResponse(store, key, raw, retentionMs, fileSearch),

    /** `file_search` tools run through the knowledge module (wired after it is made) */
    useFileSearch(port: FileSearchPort) {
      fileSearch = port;
    },

    /** the response as it ended: stored unless `store: false`, returned as OpenAI's object */
    async complete(record: ResponseRecord, outcome: ResponseOutcome | StreamOutcome) {
      const done: ResponseRecord = {
        ...record,
        status: outcome.status,
        output: outcome.output,
        usage: outcome.usage,
        incompleteDetails: outcome.incompleteDetails,
        error: 'error' in outcome ? outcome.error : null,
        completedAt: new Date(),
      };
      if (done.store) await store.insert(done);
      return toResponseObject(done);
    },

    start() {
      const tick = () => void sweep().catch((err) => log.warn({ err: String(err) }, 'response sweep failed'));
      timer = setInterval(tick, deps.sweepIntervalMs ?? 3_600_000);
      timer.unref();
      setTimeout(tick, 30_000).unref();
    },

    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

export type Responses = ReturnType<typeof createResponses>;
