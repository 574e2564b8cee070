import { CheckOutlined, MinusOutlined, UserAddOutlined } from '@ant-design/icons';
import {
  ModalForm,
  type ProColumns,
  ProFormDependency,
  ProFormRadio,
  ProFormSelect,
  ProFormText,
  ProTable,
} from '@ant-design/pro-components';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, listAll } from '../api/client.ts';
import { succeeded, useApiMutation } from '../api/mutation.ts';
import { useOrgKey } from '../api/queries.ts';
import { type Membership, ROLES, type Role, type User } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { LimitsDrawer } from '../components/limits-drawer.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime } from '../lib/format.ts';
import { InvitationsCard } from './members/invitations-card.tsx';
import { MailSettingsCard } from './members/mail-settings-card.tsx';
import { RegistrationCard } from './members/registration-card.tsx';
import { EffectivePermissionsButton } from './roles/effective-permissions.tsx';

interface AddForm {
  mode: 'new' | 'existing';
  email: string;
  name?: string;
  password?: string;
  role: Role;
}

const ROLE_COLORS: Record<Role, string> = {
  owner: 'gold',
  admin: 'purple',
  operator: 'blue',
  viewer: 'default',
};

export function RoleTag({ role }: { role: Role }) {
  const t = useT();
  return <Tag color={ROLE_COLORS[role]}>{t(`role.${role}`)}</Tag>;
}

function RolesCard() {
  const t = useT();
  const perms = ['read', 'write', 'manage_members', 'delete_org'] as const;
  const grants: Record<Role, string[]> = {
    viewer: ['read'],
    operator: ['read', 'write'],
    admin: ['read', 'write', 'manage_members'],
    owner: [...perms],
  };
  return (
    <Card title={t('members.roles_title')} style={{ marginTop: 16 }}>
      <Table
        size="small"
        pagination={false}
        rowKey="role"
        dataSource={ROLES.map((role) => ({ role }))}
        columns={[
          { title: t('members.role'), dataIndex: 'role', render: (r: Role) => <RoleTag role={r} /> },
          ...perms.map((perm) => ({
            title: t(`perm.${perm}`),
            key: perm,
            align: 'center' as const,
            render: (_: unknown, row: { role: Role }) =>
              grants[row.role].includes(perm) ? (
                <CheckOutlined style={{ color: '#52c41a' }} />
              ) : (
                <MinusOutlined style={{ opacity: 0.3 }} />
              ),
          })),
        ]}
      />
    </Card>
  );
}

export default function MembersPage() {
  const t = useT();
  const { can, me } = useAuth();
  const canManage = can('manage_members');
  const users = useQuery({ queryKey: useOrgKey('users'), queryFn: () => listAll<User>('/api/v1/users') });
  const memberships = useQuery({
    queryKey: useOrgKey('memberships'),
    queryFn: () => listAll<Membership>('/api/v1/memberships'),
  });
  const membershipOf = (userId: string) => memberships.data?.find((m) => m.user_id === userId);
  const [adding, setAdding] = useState(false);
  const [limitsOf, setLimitsOf] = useState<User | null>(null);

  const add = useApiMutation(
    (v: AddForm) =>
      v.mode === 'new'
        ? api.post('/api/v1/users', {
            email: v.email,
            name: v.name || undefined,
            password: v.password,
            role: v.role,
          })
        : api.post('/api/v1/memberships', { email: v.email, role: v.role }),
    { success: t('members.added'), invalidate: ['users', 'memberships'] },
  );
  const changeRole = useApiMutation(
    ({ id, role }: { id: string; role: Role }) => api.patch(`/api/v1/memberships/${id}`, { role }),
    {
      success: t('members.role_changed'),
      invalidate: ['users', 'memberships'],
    },
  );
  const remove = useApiMutation((userId: string) => api.del(`/api/v1/users/${userId}`), {
    success: t('members.removed'),
    invalidate: ['users', 'memberships'],
  });

  const columns: ProColumns<User>[] = [
    {
      title: t('members.member'),
      dataIndex: 'email',
      render: (_, u) => (
        <Space direction="vertical" size={0}>
          <Space size={6}>
            <Typography.Text strong>{u.name || u.email}</Typography.Text>
            {u.id === me?.user?.id ? <Tag>{t('members.you')}</Tag> : null}
            {u.is_platform_admin ? <Tag color="magenta">{t('members.platform_admin')}</Tag> : null}
            {u.disabled ? <Tag color="red">{t('members.disabled')}</Tag> : null}
          </Space>
          {u.name ? <Typography.Text type="secondary">{u.email}</Typography.Text> : null}
        </Space>
      ),
    },
    {
      title: t('members.role'),
      dataIndex: 'role',
      width: 200,
      render: (_, u) => {
        const membership = membershipOf(u.id);
        if (!u.role) return '—';
        if (!canManage || !membership || u.id === me?.user?.id) return <RoleTag role={u.role} />;
        return (
          <Select
            size="small"
            value={u.role}
            style={{ width: 140 }}
            options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
            onChange={(role) => changeRole.mutate({ id: membership.id, role })}
          />
        );
      },
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 180,
      render: (_, u) => formatDateTime(u.created_at),
    },
    {
      title: t('roles.effective'),
      key: 'permissions',
      width: 190,
      render: (_, u) => <EffectivePermissionsButton userId={u.id} email={u.email} />,
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: 200,
      hideInTable: !canManage,
      render: (_, u) => (
        <Space size={0}>
          <Button size="small" type="link" onClick={() => setLimitsOf(u)} data-testid="member-limits">
            {t('keys.limits')}
          </Button>
          {u.id === me?.user?.id ? null : (
            <Popconfirm
              title={t('members.remove_title', { name: u.email })}
              description={t('members.remove_hint')}
              okButtonProps={{ danger: true }}
              okText={t('action.remove')}
              onConfirm={() => remove.mutateAsync(u.id)}
            >
              <Button size="small" type="link" danger>
                {t('action.remove')}
              </Button>
            </Popconfirm>
          )}
        </Space>
      ),
    },
  ];

  return (
    <Page id="members" title={t('nav.members')} subTitle={t('members.subtitle')}>
      {users.error ? <ErrorAlert error={users.error} onRetry={() => users.refetch()} /> : null}
      <ProTable<User>
        rowKey="id"
        columns={columns}
        dataSource={users.data}
        loading={users.isLoading}
        search={false}
        options={{ reload: () => users.refetch(), density: true, setting: false }}
        pagination={{ pageSize: 10 }}
        headerTitle={t('members.list')}
        toolBarRender={() =>
          canManage
            ? [
                <Button key="add" type="primary" icon={<UserAddOutlined />} onClick={() => setAdding(true)}>
                  {t('members.add')}
                </Button>,
              ]
            : []
        }
        locale={{ emptyText: <EmptyState title={t('members.empty')} /> }}
      />
      <InvitationsCard canManage={canManage} />
      <RegistrationCard canManage={canManage} />
      {me?.user?.is_platform_admin ? <MailSettingsCard /> : null}
      <RolesCard />
      <LimitsDrawer
        scope="user"
        scopeId={limitsOf?.id ?? null}
        title={t('keys.limits_of', { name: limitsOf?.email ?? '' })}
        onClose={() => setLimitsOf(null)}
      />
      <ModalForm<AddForm>
        title={t('members.add')}
        open={adding}
        onOpenChange={setAdding}
        initialValues={{ mode: 'new', role: 'viewer' }}
        modalProps={{ destroyOnHidden: true }}
        onFinish={(v) => succeeded(add.mutateAsync(v))}
      >
        <ProFormRadio.Group
          name="mode"
          radioType="button"
          options={[
            { value: 'new', label: t('members.mode_new') },
            { value: 'existing', label: t('members.mode_existing') },
          ]}
        />
        <ProFormText
          name="email"
          label={t('login.email')}
          rules={[
            { required: true, message: t('form.required') },
            { pattern: /^[^@\s]+@[^@\s]+$/, message: t('form.email') },
          ]}
        />
        <ProFormDependency name={['mode']}>
          {({ mode }) =>
            mode === 'new' ? (
              <>
                <ProFormText name="name" label={t('common.name')} fieldProps={{ maxLength: 200 }} />
                <ProFormText.Password
                  name="password"
                  label={t('members.initial_password')}
                  extra={t('members.initial_password_hint')}
                  rules={[
                    () => ({
                      validator: (_, value?: string) =>
                        value && value.length >= 8
                          ? Promise.resolve()
                          : Promise.reject(new Error(t('form.password_min'))),
                    }),
                  ]}
                />
              </>
            ) : null
          }
        </ProFormDependency>
        <ProFormSelect
          name="role"
          label={t('members.role')}
          options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
          rules={[{ required: true }]}
        />
      </ModalForm>
    </Page>
  );
}
