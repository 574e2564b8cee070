import {
  DashboardOutlined,
  DeleteOutlined,
  EditOutlined,
  PlusOutlined,
  SwapOutlined,
} from '@ant-design/icons';
import { ModalForm, type ProColumns, ProFormText, ProTable } from '@ant-design/pro-components';
import { useQuery } from '@tanstack/react-query';
import { Button, Input, Modal, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, listAll } from '../api/client.ts';
import { succeeded, useApiMutation } from '../api/mutation.ts';
import { useOrgKey } from '../api/queries.ts';
import type { Org } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { LimitsDrawer } from '../components/limits-drawer.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime } from '../lib/format.ts';
import { RoleTag } from './members.tsx';
import { SignInPolicyButton } from './orgs/sign-in-policy.tsx';

export default function OrgsPage() {
  const t = useT();
  const { me, can, logout, switchOrg } = useAuth();
  const switchTo = useApiMutation((orgId: string) => switchOrg(orgId));
  const orgs = useQuery({ queryKey: useOrgKey('orgs'), queryFn: () => listAll<Org>('/api/v1/orgs') });
  const [creating, setCreating] = useState(false);
  const [limitsOpen, setLimitsOpen] = useState(false);
  const [renaming, setRenaming] = useState<Org | null>(null);
  const [deleting, setDeleting] = useState<Org | null>(null);
  const [confirmName, setConfirmName] = useState('');
  const isPlatformAdmin = me?.user?.is_platform_admin ?? false;
  const roleIn = (orgId: string) => me?.memberships.find((m) => m.org_id === orgId)?.role;

  const create = useApiMutation(
    (v: { name: string; slug?: string }) =>
      api.post<Org>('/api/v1/orgs', { name: v.name, slug: v.slug || undefined }),
    {
      success: t('orgs.created'),
      invalidate: ['orgs', 'me'],
    },
  );
  const rename = useApiMutation(
    ({ id, name }: { id: string; name: string }) => api.patch<Org>(`/api/v1/orgs/${id}`, { name }),
    {
      success: t('common.saved'),
      invalidate: ['orgs'],
    },
  );
  const remove = useApiMutation((id: string) => api.del(`/api/v1/orgs/${id}`), {
    success: t('orgs.deleted'),
    onSuccess: (_, id) => {
      if (id === me?.org.id) void logout();
    },
    invalidate: ['orgs'],
  });

  const columns: ProColumns<Org>[] = [
    {
      title: t('common.name'),
      dataIndex: 'name',
      render: (_, o) => (
        <Space>
          <Typography.Text strong>{o.name}</Typography.Text>
          {o.id === me?.org.id ? <Tag color="green">{t('orgs.current')}</Tag> : null}
        </Space>
      ),
    },
    {
      title: t('orgs.slug'),
      dataIndex: 'slug',
      render: (_, o) => <span className="maas-mono">{o.slug}</span>,
    },
    {
      title: t('orgs.your_role'),
      key: 'role',
      render: (_, o) => (roleIn(o.id) ? <RoleTag role={roleIn(o.id)!} /> : '—'),
    },
    {
      title: 'ID',
      dataIndex: 'id',
      copyable: true,
      render: (_, o) => <span className="maas-mono">{o.id}</span>,
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 180,
      render: (_, o) => formatDateTime(o.created_at),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: 340,
      render: (_, o) => {
        const current = o.id === me?.org.id;
        return (
          <Space size={0}>
            {!current && roleIn(o.id) ? (
              <Button
                type="link"
                size="small"
                icon={<SwapOutlined />}
                loading={switchTo.isPending && switchTo.variables === o.id}
                onClick={() => switchTo.mutate(o.id)}
              >
                {t('org.switch')}
              </Button>
            ) : null}
            {current ? (
              <Button
                type="link"
                size="small"
                icon={<DashboardOutlined />}
                onClick={() => setLimitsOpen(true)}
              >
                {t('keys.limits')}
              </Button>
            ) : null}
            {current && can('manage_members') ? (
              <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setRenaming(o)}>
                {t('orgs.rename')}
              </Button>
            ) : null}
            {current && can('manage_members') ? <SignInPolicyButton org={o} /> : null}
            {current && can('delete_org') ? (
              <Button
                type="link"
                size="small"
                danger
                icon={<DeleteOutlined />}
                onClick={() => setDeleting(o)}
              >
                {t('action.delete')}
              </Button>
            ) : null}
          </Space>
        );
      },
    },
  ];

  return (
    <Page id="orgs" title={t('nav.orgs')} subTitle={t('orgs.subtitle')}>
      {orgs.error ? <ErrorAlert error={orgs.error} onRetry={() => orgs.refetch()} /> : null}
      <ProTable<Org>
        rowKey="id"
        columns={columns}
        dataSource={orgs.data}
        loading={orgs.isLoading}
        search={false}
        options={{ reload: () => orgs.refetch(), density: false, setting: false }}
        pagination={{ pageSize: 10 }}
        headerTitle={t('orgs.list')}
        toolBarRender={() =>
          isPlatformAdmin
            ? [
                <Button key="new" type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
                  {t('orgs.new')}
                </Button>,
              ]
            : []
        }
        locale={{ emptyText: <EmptyState title={t('orgs.empty')} /> }}
      />
      <ModalForm<{ name: string; slug?: string }>
        title={t('orgs.new')}
        open={creating}
        onOpenChange={setCreating}
        modalProps={{ destroyOnHidden: true }}
        onFinish={(v) => succeeded(create.mutateAsync(v))}
      >
        <ProFormText
          name="name"
          label={t('common.name')}
          rules={[{ required: true, whitespace: true, message: t('form.required') }]}
        />
        <ProFormText
          name="slug"
          label={t('orgs.slug')}
          extra={t('orgs.slug_hint')}
          rules={[{ pattern: /^[a-z0-9][a-z0-9-]{0,47}$/, message: t('orgs.slug_invalid') }]}
        />
      </ModalForm>
      <ModalForm<{ name: string }>
        title={t('orgs.rename')}
        open={renaming !== null}
        onOpenChange={(open) => !open && setRenaming(null)}
        initialValues={renaming ?? undefined}
        modalProps={{ destroyOnHidden: true }}
        onFinish={(v) => succeeded(rename.mutateAsync({ id: renaming!.id, name: v.name }))}
      >
        <ProFormText
          name="name"
          label={t('common.name')}
          rules={[{ required: true, whitespace: true, message: t('form.required') }]}
        />
      </ModalForm>
      <Modal
        open={deleting !== null}
        title={t('orgs.delete_title', { name: deleting?.name ?? '' })}
        okText={t('orgs.delete_confirm')}
        okButtonProps={{ danger: true, disabled: confirmName !== deleting?.name }}
        onCancel={() => {
          setDeleting(null);
          setConfirmName('');
        }}
        onOk={async () => {
          if (deleting && (await succeeded(remove.mutateAsync(deleting.id)))) setDeleting(null);
        }}
      >
        <Typography.Paragraph type="danger">{t('orgs.delete_hint')}</Typography.Paragraph>
        <Typography.Paragraph>{t('orgs.delete_type', { name: deleting?.name ?? '' })}</Typography.Paragraph>
        <Input value={confirmName} onChange={(e) => setConfirmName(e.target.value)} />
      </Modal>
      <LimitsDrawer
        scope="org"
        scopeId={limitsOpen && me ? me.org.id : null}
        title={t('keys.limits_of', { name: me?.org.name ?? '' })}
        onClose={() => setLimitsOpen(false)}
      />
    </Page>
  );
}
