import { DashboardOutlined, DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import {
  ModalForm,
  type ProColumns,
  ProFormText,
  ProFormTextArea,
  ProTable,
} from '@ant-design/pro-components';
import { Button, Popconfirm, Space, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import { succeeded, useApiMutation } from '../api/mutation.ts';
import { useKeys, useProjects } from '../api/queries.ts';
import type { Project } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { LimitsDrawer } from '../components/limits-drawer.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime } from '../lib/format.ts';

interface ProjectForm {
  name: string;
  description?: string;
}

export default function ProjectsPage() {
  const t = useT();
  const { can } = useAuth();
  const canWrite = can('write');
  const projects = useProjects();
  const keys = useKeys();
  const [editing, setEditing] = useState<Project | null>(null);
  const [creating, setCreating] = useState(false);
  const [limitsOf, setLimitsOf] = useState<Project | null>(null);
  const keyCount = (id: string) =>
    keys.data?.filter((k) => k.project_id === id && k.status === 'active').length ?? 0;

  const create = useApiMutation((v: ProjectForm) => api.post<Project>('/api/v1/projects', v), {
    success: t('projects.created'),
    invalidate: ['projects'],
  });
  const update = useApiMutation(
    ({ id, ...v }: ProjectForm & { id: string }) => api.patch<Project>(`/api/v1/projects/${id}`, v),
    {
      success: t('common.saved'),
      invalidate: ['projects'],
    },
  );
  const remove = useApiMutation((id: string) => api.del(`/api/v1/projects/${id}`), {
    success: t('projects.deleted'),
    invalidate: ['projects', 'keys'],
  });

  const columns: ProColumns<Project>[] = [
    {
      title: t('common.name'),
      dataIndex: 'name',
      render: (_, p) => <Typography.Text strong>{p.name}</Typography.Text>,
    },
    {
      title: t('common.description'),
      dataIndex: 'description',
      ellipsis: true,
      render: (_, p) => p.description || '—',
    },
    {
      title: t('projects.active_keys'),
      key: 'keys',
      width: 120,
      render: (_, p) => <Link to={`/keys?project=${p.id}`}>{keyCount(p.id)}</Link>,
    },
    {
      title: 'ID',
      dataIndex: 'id',
      copyable: true,
      width: 260,
      render: (_, p) => (
        <span className="maas-mono" style={{ whiteSpace: 'nowrap' }}>
          {p.id}
        </span>
      ),
    },
    {
      title: t('common.created'),
      dataIndex: 'created_at',
      width: 180,
      render: (_, p) => formatDateTime(p.created_at),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: 260,
      render: (_, p) => (
        <Space size={0}>
          <Button size="small" type="link" icon={<DashboardOutlined />} onClick={() => setLimitsOf(p)}>
            {t('keys.limits')}
          </Button>
          {canWrite ? (
            <>
              <Button size="small" type="link" icon={<EditOutlined />} onClick={() => setEditing(p)}>
                {t('action.edit')}
              </Button>
              <Popconfirm
                title={t('projects.delete_title', { name: p.name })}
                description={t('projects.delete_hint')}
                okButtonProps={{ danger: true }}
                okText={t('action.delete')}
                onConfirm={() => remove.mutateAsync(p.id)}
              >
                <Button size="small" type="link" danger icon={<DeleteOutlined />}>
                  {t('action.delete')}
                </Button>
              </Popconfirm>
            </>
          ) : null}
        </Space>
      ),
    },
  ];

  const form = (
    <>
      <ProFormText
        name="name"
        label={t('common.name')}
        placeholder={t('projects.name_placeholder')}
        rules={[{ required: true, whitespace: true, message: t('form.required') }, { max: 200 }]}
      />
      <ProFormTextArea
        name="description"
        label={t('common.description')}
        fieldProps={{ maxLength: 2000, rows: 3 }}
      />
    </>
  );

  return (
    <Page id="projects" title={t('nav.projects')} subTitle={t('projects.subtitle')}>
      {projects.error ? <ErrorAlert error={projects.error} onRetry={() => projects.refetch()} /> : null}
      <ProTable<Project>
        rowKey="id"
        columns={columns}
        dataSource={projects.data}
        loading={projects.isLoading}
        search={false}
        options={{ reload: () => projects.refetch(), density: true, setting: false }}
        pagination={{ pageSize: 10, showSizeChanger: true }}
        headerTitle={t('projects.list')}
        toolBarRender={() =>
          canWrite
            ? [
                <Button
                  key="new"
                  type="primary"
                  icon={<PlusOutlined />}
                  onClick={() => setCreating(true)}
                  data-testid="project-create"
                >
                  {t('projects.new')}
                </Button>,
              ]
            : []
        }
        locale={{
          emptyText: (
            <EmptyState
              title={t('projects.empty')}
              hint={canWrite ? t('projects.empty_hint') : t('common.ask_operator')}
            />
          ),
        }}
      />
      <ModalForm<ProjectForm>
        title={t('projects.new')}
        open={creating}
        onOpenChange={setCreating}
        modalProps={{ destroyOnHidden: true }}
        onFinish={async (v) => {
          return succeeded(create.mutateAsync(v));
        }}
      >
        {form}
      </ModalForm>
      <ModalForm<ProjectForm>
        title={t('projects.edit', { name: editing?.name ?? '' })}
        open={editing !== null}
        onOpenChange={(open) => !open && setEditing(null)}
        initialValues={editing ?? undefined}
        modalProps={{ destroyOnHidden: true }}
        onFinish={async (v) => {
          if (!editing) return true;
          return succeeded(
            update.mutateAsync({ id: editing.id, name: v.name, description: v.description ?? '' }),
          );
        }}
      >
        {form}
      </ModalForm>
      <LimitsDrawer
        scope="project"
        scopeId={limitsOf?.id ?? null}
        title={t('keys.limits_of', { name: limitsOf?.name ?? '' })}
        onClose={() => setLimitsOf(null)}
      />
    </Page>
  );
}
