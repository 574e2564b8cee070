import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useAuth } from '../auth/auth.tsx';
import { listAll } from './client.ts';
import type { ApiKey, Model, Project, Provider } from './types.ts';

/** Query keys start with the org so that switching org never shows another org's cache. */
export function useOrgKey(...parts: unknown[]): unknown[] {
  const { session } = useAuth();
  return [session?.orgId, ...parts];
}

export function useProjects() {
  return useQuery({ queryKey: useOrgKey('projects'), queryFn: () => listAll<Project>('/api/v1/projects') });
}

export function useKeys() {
  return useQuery({ queryKey: useOrgKey('keys'), queryFn: () => listAll<ApiKey>('/api/v1/keys') });
}

export function useProviders() {
  return useQuery({
    queryKey: useOrgKey('providers'),
    queryFn: () => listAll<Provider>('/api/v1/providers'),
  });
}

export function useModels() {
  return useQuery({ queryKey: useOrgKey('models'), queryFn: () => listAll<Model>('/api/v1/models') });
}

/** id → display name of a list, for showing names instead of ids */
export function useNames<T extends { id: string; name: string }>(
  items: T[] | undefined,
): (id: string | null | undefined) => string {
  return useMemo(() => {
    const map = new Map((items ?? []).map((i) => [i.id, i.name]));
    return (id) => (id ? (map.get(id) ?? id) : '—');
  }, [items]);
}
