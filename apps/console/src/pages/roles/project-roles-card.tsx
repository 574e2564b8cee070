import { useQuery } from '@tanstack/react-query';
import { Button, Card, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, listAll } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useOrgKey, useProjects } from '../../api/queries.ts';
import type { Membership } from '../../api/types.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { type ProjectMember, useProjectMembers, useRoles } from './role-api.ts';

/** Members' roles in one project: on top of their org role, in that project only. */
export function ProjectRolesCard({ canManage }: { canManage: boolean }) {
  const t = useT();
  const projects = useProjects();
  const [projectId, setProjectId] = useState<string>();
  const [userId, setUserId] = useState<string>();
  const [roleId, setRoleId] = useState<string>();
  const project = projectId ?? projects.data?.[0]?.id;
  const members = useProjectMembers(project);
  const roles = useRoles();
  const memberships = useQuery({
    queryKey: useOrgKey('memberships'),
    queryFn: () => listAll<Membership>('/api/v1/memberships'),
  });
  const assign = useApiMutation(
    (v: { userId: string; roleId: string }) =>
      api.put(`/api/v1/projects/${project}/members/${v.userId}`, { role: v.roleId }),
    { success: t('roles.project_assigned'), invalidate: ['roles'] },
  );
  const remove = useApiMutation((uid: string) => api.del(`/api/v1/projects/${project}/members/${uid}`), {
    success: t('roles.project_removed'),
    invalidate: ['roles'],
  });
  const assignable = (roles.data ?? []).filter((r) => r.id !== 'owner');
  return (
    <Card title={t('roles.project_title')} style={{ marginTop: 16 }} data-testid="project-roles-card">
      <Typography.Paragraph type="secondary">{t('roles.project_hint')}</Typography.Paragraph>
      <Space wrap style={{ marginBottom: 12 }}>
        <Select
          style={{ width: 220 }}
          value={project}
          onChange={setProjectId}
          options={(projects.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
          data-testid="project-roles-project"
        />
        {canManage ? (
          <>
            <Select
              style={{ width: 240 }}
              placeholder={t('roles.member')}
              value={userId}
              onChange={setUserId}
              showSearch
              optionFilterProp="label"
              options={(memberships.data ?? []).map((m) => ({
                value: m.user_id,
                label: m.email ?? m.user_id,
              }))}
              data-testid="project-roles-member"
            />
            <Select
              style={{ width: 200 }}
              placeholder={t('roles.role')}
              value={roleId}
              onChange={setRoleId}
              options={assignable.map((r) => ({
                value: r.id,
                label: r.built_in ? t(`role.${r.id}` as never) : r.name,
              }))}
              data-testid="project-roles-role"
            />
            <Button
              type="primary"
              disabled={!userId || !roleId || !project}
              loading={assign.isPending}
              onClick={() => userId && roleId && assign.mutate({ userId, roleId })}
              data-testid="project-roles-assign"
            >
              {t('roles.assign')}
            </Button>
          </>
        ) : null}
      </Space>
      {members.error ? <ErrorAlert error={members.error} /> : null}
      <Table<ProjectMember>
        size="small"
        rowKey="user_id"
        loading={members.isLoading}
        pagination={false}
        dataSource={members.data ?? []}
        locale={{ emptyText: t('roles.project_empty') }}
        columns={[
          { title: t('roles.member'), dataIndex: 'email' },
          { title: t('roles.role'), key: 'role', render: (_, m) => <Tag color="green">{m.role.name}</Tag> },
          ...(canManage
            ? [
                {
                  title: '',
                  key: 'actions',
                  align: 'right' as const,
                  render: (_: unknown, m: ProjectMember) => (
                    <Popconfirm
                      title={t('roles.project_remove_confirm')}
                      onConfirm={() => remove.mutate(m.user_id)}
                    >
                      <Button size="small" danger data-testid={`project-role-remove-${m.email}`}>
                        {t('action.remove')}
                      </Button>
                    </Popconfirm>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Card>
  );
}
