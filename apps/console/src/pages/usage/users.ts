import { useQuery } from '@tanstack/react-query';
import { listAll } from '../../api/client.ts';
import { useOrgKey } from '../../api/queries.ts';
import type { User } from '../../api/types.ts';

/** The org's members, for naming the users usage is grouped or filtered by. */
export function useUsers() {
  return useQuery({ queryKey: useOrgKey('users'), queryFn: () => listAll<User>('/api/v1/users') });
}
