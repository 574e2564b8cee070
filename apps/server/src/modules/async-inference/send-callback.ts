import { describeNetworkError, isOutboundRefused, type OutboundPolicy, outboundAgent } from '@maas/outbound';
import { fetch } from '@maas/outbound/undici';
import { PermanentJobError } from '../jobs/index.ts';

export interface CallbackPayload {
  url: string;
  /** the job as GET returns it, final */
  job: { id: string; status: string };
}

/**
 * POSTs a finished async job to its callback URL through the outbound-request policy (every
 * connection is checked, redirects are not followed). A 2xx ends it; 408, 429 and 5xx or a network
 * error are retried by the job engine; any other answer, or a refusal by the policy, is final.
 */
export async function sendCallback(
  outbound: OutboundPolicy,
  payload: CallbackPayload,
  signal: AbortSignal,
): Promise<{ status: number }> {
  const dispatcher = outboundAgent(outbound, { timeout: 10_000 });
  try {
    const res = await fetch(payload.url, {
      dispatcher,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'maas-async',
        'x-maas-job-id': payload.job.id,
        'x-maas-event': `job.${payload.job.status}`,
      },
      body: JSON.stringify(payload.job),
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { status: res.status };
    const text = `the callback URL answered HTTP ${res.status}`;
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw new Error(text);
    throw new PermanentJobError(text);
  } catch (err) {
    if (err instanceof PermanentJobError) throw err;
    if (isOutboundRefused(err)) throw new PermanentJobError(`callback refused: ${describeNetworkError(err)}`);
    if (err instanceof Error && err.message.startsWith('the callback URL answered')) throw err;
    throw new Error(`callback failed: ${describeNetworkError(err)}`);
  } finally {
    void dispatcher.close().catch(() => {});
  }
}
