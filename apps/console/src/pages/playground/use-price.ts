import { useQuery } from '@tanstack/react-query';
import { listAll } from '../../api/client.ts';
import { useModels, useOrgKey } from '../../api/queries.ts';
import type { Pricing } from '../../api/types.ts';

interface Price extends Pricing {
  model_id: string;
  version_id: string | null;
  effective_from: string;
}

/** The price in effect now of a model called by name or alias, for estimating a reply's cost. */
export function usePriceOf(): (name: string) => Pricing | null {
  const adminModels = useModels();
  const prices = useQuery({
    queryKey: useOrgKey('prices'),
    queryFn: () => listAll<Price>('/api/v1/prices'),
    retry: false,
  });
  // the model-wide price of the price book first, else the pricing of the model's busiest version
  return (name: string): Pricing | null => {
    const m = adminModels.data?.find((x) => x.name === name || x.aliases.includes(name));
    if (!m) return null;
    const now = Date.now();
    const booked = (prices.data ?? [])
      .filter(
        (p) => p.model_id === m.id && p.version_id === null && new Date(p.effective_from).getTime() <= now,
      )
      .sort((a, b) => b.effective_from.localeCompare(a.effective_from))[0];
    if (booked) return booked;
    const version = m.versions
      .filter((v) => v.pricing)
      .sort((a, b) => b.traffic_weight - a.traffic_weight)[0];
    return version?.pricing ?? null;
  };
}
