import type { ApiItem, ApiResponse } from '@maas/contracts';
import { useQuery } from '@tanstack/react-query';
import { api, listAll } from '../../api/client.ts';
import { useOrgKey } from '../../api/queries.ts';

/** Shapes of the roles API, from its OpenAPI document. */
export type PermissionInfo = ApiItem<'/api/v1/permissions'>;
export type RoleRow = ApiItem<'/api/v1/roles'>;
export type EffectivePermissions = ApiResponse<'/api/v1/users/{id}/permissions'>;
export type PermissionSource = EffectivePermissions['permissions'][number]['sources'][number];
export type ProjectMember = ApiItem<'/api/v1/projects/{id}/members'>;

export const usePermissionCatalogue = () =>
  useQuery({
    queryKey: useOrgKey('permissions'),
    queryFn: async () => (await api.get<ApiResponse<'/api/v1/permissions'>>('/api/v1/permissions')).data,
    staleTime: Number.POSITIVE_INFINITY,
  });

export const useRoles = () =>
  useQuery({ queryKey: useOrgKey('roles'), queryFn: () => listAll<RoleRow>('/api/v1/roles') });

/** What the signed-in member may do here (a custom role's permissions included). */
export const useMyPermissions = () =>
  useQuery({
    queryKey: useOrgKey('roles', 'me'),
    queryFn: () => api.get<ApiResponse<'/api/v1/me/permissions'>>('/api/v1/me/permissions'),
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
      (await api.get<ApiResponse<'/api/v1/projects/{id}/members'>>(`/api/v1/projects/${projectId}/members`))
        .data,
    enabled: Boolean(projectId),
  });
