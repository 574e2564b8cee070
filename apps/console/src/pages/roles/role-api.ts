import { useQuery } from '@tanstack/react-query';
import { api, listAll } from '../../api/client.ts';
import { useOrgKey } from '../../api/queries.ts';

export interface PermissionInfo {
  name: string;
  area: string;
  level: 'viewer' | 'operator' | 'admin' | 'owner';
  description: string;
}

export interface RoleRow {
  id: string;
  name: string;
  description: string | null;
  built_in: boolean;
  permissions: string[];
}

export interface PermissionSource {
  kind: 'org_role' | 'project_role';
  role: string;
  role_id: string | null;
  project_id?: string;
}

export interface EffectivePermissions {
  user_id: string;
  org_role: { id: string; name: string };
  org: string[];
  projects: { project_id: string; permissions: string[] }[];
  permissions: { name: string; sources: PermissionSource[] }[];
}

export interface ProjectMember {
  project_id: string;
  user_id: string;
  email: string;
  role: { id: string; name: string };
}

export const usePermissionCatalogue = () =>
  useQuery({
    queryKey: useOrgKey('permissions'),
    queryFn: async () => (await api.get<{ data: PermissionInfo[] }>('/api/v1/permissions')).data,
    staleTime: Number.POSITIVE_INFINITY,
  });

export const useRoles = () =>
  useQuery({ queryKey: useOrgKey('roles'), queryFn: () => listAll<RoleRow>('/api/v1/roles') });

/** What the signed-in member may do here (a custom role's permissions included). */
export const useMyPermissions = () =>
  useQuery({
    queryKey: useOrgKey('roles', 'me'),
    queryFn: () => api.get<EffectivePermissions>('/api/v1/me/permissions'),
  });

export const useEffectivePermissions = (userId: string | undefined) =>
  useQuery({
    queryKey: useOrgKey('roles', 'effective', userId),
    queryFn: () => api.get<EffectivePermissions>(`/api/v1/users/${userId}/permissions`),
    enabled: Boolean(userId),
  });

export const useProjectMembers = (projectId: string | undefined) =>
  useQuery({
    queryKey: useOrgKey('roles', 'project', projectId),
    queryFn: async () =>
      (await api.get<{ data: ProjectMember[] }>(`/api/v1/projects/${projectId}/members`)).data,
    enabled: Boolean(projectId),
  });
