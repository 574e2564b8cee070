import { PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, listAll } from '../api/client.ts';
import { useApiMutation } from '../api/mutation.ts';
import { useOrgKey } from '../api/queries.ts';
import type { Membership } from '../api/types.ts';
import { Page } from '../components/page.tsx';
import { ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { EffectivePermissionsView } from './roles/effective-permissions.tsx';
import { ProjectRolesCard } from './roles/project-roles-card.tsx';
import { type RoleRow, useMyPermissions, useRoles } from './roles/role-api.ts';
import { RoleEditor } from './roles/role-editor.tsx';

/** Roles: the built-in templates, the org's custom roles, project roles and effective permissions. */
export default function RolesPage() {
  const t = useT();
  const roles = useRoles();
  const mine = useMyPermissions();
  const held = new Set(mine.data?.org ?? []);
  const canEditRoles = held.has('roles:write');
  const canManageMembers = held.has('members:write');
  const remove = useApiMutation((id: string) => api.del(`/api/v1/roles/${id}`), {
    success: t('roles.deleted'),
    invalidate: ['roles'],
  });
  return (
    <Page
      id="roles"
      title={t('nav.roles')}
      extra={
        canEditRoles ? (
          <RoleEditor
            held={held}
            trigger={
              <Button type="primary" icon={<PlusOutlined />} data-testid="role-new">
                {t('roles.new')}
              </Button>
            }
          />
        ) : null
      }
    >
      <Card title={t('roles.title')}>
        <Typography.Paragraph type="secondary">{t('roles.hint')}</Typography.Paragraph>
        {roles.error ? <ErrorAlert error={roles.error} /> : null}
        <Table<RoleRow>
          size="small"
          rowKey="id"
          loading={roles.isLoading}
          pagination={false}
          dataSource={roles.data ?? []}
          onRow={(r) => ({ 'data-testid': `role-row-${r.name}` }) as never}
          columns={[
            {
              title: t('roles.name'),
              key: 'name',
              render: (_, r) => (r.built_in ? t(`role.${r.id}` as never) : r.name),
            },
            {
              title: t('roles.kind'),
              key: 'kind',
              render: (_, r) =>
                r.built_in ? <Tag>{t('roles.built_in')}</Tag> : <Tag color="purple">{t('roles.custom')}</Tag>,
            },
            { title: t('roles.description'), dataIndex: 'description' },
            {
              title: t('roles.permissions'),
              key: 'permissions',
              render: (_, r) => (
                <Typography.Text data-testid={`role-perms-${r.name}`}>
                  {t('roles.permission_count', { n: r.permissions.length })}
                </Typography.Text>
              ),
            },
            {
              title: '',
              key: 'actions',
              align: 'right',
              render: (_, r) =>
                r.built_in || !canEditRoles ? null : (
                  <Space>
                    <RoleEditor
                      role={r}
                      held={held}
                      trigger={
                        <Button size="small" data-testid={`role-edit-${r.name}`}>
                          {t('action.edit')}
                        </Button>
                      }
                    />
                    <Popconfirm
                      title={t('roles.delete_confirm', { name: r.name })}
                      onConfirm={() => remove.mutate(r.id)}
                      okButtonProps={{ danger: true, 'data-testid': `role-delete-confirm-${r.name}` }}
                    >
                      <Button size="small" danger data-testid={`role-delete-${r.name}`}>
                        {t('action.delete')}
                      </Button>
                    </Popconfirm>
                  </Space>
                ),
            },
          ]}
        />
      </Card>
      <ProjectRolesCard canManage={canManageMembers} />
      <EffectiveCard />
    </Page>
  );
}

function EffectiveCard() {
  const t = useT();
  const [userId, setUserId] = useState<string>();
  const memberships = useQuery({
    queryKey: useOrgKey('memberships'),
    queryFn: () => listAll<Membership>('/api/v1/memberships'),
  });
  return (
    <Card title={t('roles.effective')} style={{ marginTop: 16 }}>
      <Select
        style={{ width: 280, marginBottom: 12 }}
        placeholder={t('roles.member')}
        value={userId}
        onChange={setUserId}
        showSearch
        optionFilterProp="label"
        options={(memberships.data ?? []).map((m) => ({ value: m.user_id, label: m.email ?? m.user_id }))}
        data-testid="effective-member"
      />
      {userId ? <EffectivePermissionsView userId={userId} /> : null}
    </Card>
  );
}
