import { useQuery } from '@tanstack/react-query';
import { api, listAll } from '../../api/client.ts';
import { useOrgKey } from '../../api/queries.ts';

/** Wire shapes of /api/v1/webhook-endpoints and /api/v1/webhook-deliveries. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Create and rotate-secret answers: the signing secret, this once. */
export type EndpointWithSecret = WebhookEndpoint & { secret: string };

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';
export const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'succeeded', 'failed'];

export interface WebhookDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  response_status: number | null;
  response_snippet: string | null;
  last_error: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  created_at: string;
}

/** The event filters the console offers (patterns: `*` matches any run of characters). */
export const EVENT_CHOICES = [
  'batch.completed',
  'batch.failed',
  'batch.expired',
  'batch.cancelled',
  'job.*',
  'budget.*',
] as const;

export function useWebhookEndpoints() {
  return useQuery({
    queryKey: useOrgKey('webhook-endpoints'),
    queryFn: () => listAll<WebhookEndpoint>('/api/v1/webhook-endpoints'),
  });
}

/** An endpoint's delivery log, newest first; polled while open (faster while one is pending). */
export function useDeliveries(endpointId: string | null, status: DeliveryStatus | undefined) {
  return useQuery({
    queryKey: useOrgKey('webhook-deliveries', endpointId, status),
    queryFn: () =>
      api.get<{ data: WebhookDelivery[] }>(`/api/v1/webhook-endpoints/${endpointId}/deliveries`, {
        limit: 100,
        status,
      }),
    enabled: endpointId !== null,
    refetchInterval: (q) => (q.state.data?.data.some((d) => d.status === 'pending') ? 1500 : 5000),
  });
}
