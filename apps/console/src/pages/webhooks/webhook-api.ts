import type { ApiItem, ApiResponse } from '@maas/contracts';
import { useQuery } from '@tanstack/react-query';
import { api, listAll } from '../../api/client.ts';
import { useOrgKey } from '../../api/queries.ts';

/** Shapes of /api/v1/webhook-endpoints and /api/v1/webhook-deliveries, from the OpenAPI document. */
export type WebhookEndpoint = ApiItem<'/api/v1/webhook-endpoints'>;

/** Create and rotate-secret answers: the signing secret, this once. */
export type EndpointWithSecret = ApiResponse<'/api/v1/webhook-endpoints', 'post'>;

export type WebhookDelivery = ApiItem<'/api/v1/webhook-endpoints/{id}/deliveries'>;
export type DeliveryStatus = WebhookDelivery['status'];
export const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'succeeded', 'failed'];

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
      api.get<ApiResponse<'/api/v1/webhook-endpoints/{id}/deliveries'>>(
        `/api/v1/webhook-endpoints/${endpointId}/deliveries`,
        {
          limit: 100,
          status,
        },
      ),
    enabled: endpointId !== null,
    refetchInterval: (q) => (q.state.data?.data.some((d) => d.status === 'pending') ? 1500 : 5000),
  });
}
