import { SafetyCertificateOutlined } from '@ant-design/icons';
import { Button, Drawer, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useNames, useProjects } from '../../api/queries.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { type PermissionSource, useEffectivePermissions } from './role-api.ts';

function SourceTag({
  source,
  projectName,
}: {
  source: PermissionSource;
  projectName: (id: string) => string;
}) {
  const t = useT();
  if (source.kind === 'org_role')
    return <Tag color="blue">{t('roles.source_org', { role: source.role })}</Tag>;
  return (
    <Tag color="green">
      {t('roles.source_project', { role: source.role, project: projectName(source.project_id ?? '') })}
    </Tag>
  );
}

/** A member's effective permissions: the org role and project roles, each permission with its source. */
export function EffectivePermissionsView({ userId }: { userId: string }) {
  const t = useT();
  const effective = useEffectivePermissions(userId);
  const projects = useProjects();
  const projectName = useNames(projects.data);
  if (effective.error) return <ErrorAlert error={effective.error} />;
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="effective-permissions">
      <Typography.Text>
        {t('roles.org_role')}: <Tag data-testid="effective-org-role">{effective.data?.org_role.name}</Tag>
      </Typography.Text>
      <Table
        size="small"
        loading={effective.isLoading}
        rowKey="name"
        pagination={false}
        dataSource={effective.data?.permissions ?? []}
        columns={[
          { title: t('roles.permission'), dataIndex: 'name', render: (n: string) => <code>{n}</code> },
          {
            title: t('roles.source'),
            key: 'sources',
            render: (_: unknown, row: { sources: PermissionSource[] }) =>
              row.sources.map((s) => (
                <SourceTag key={`${s.kind}-${s.project_id ?? ''}`} source={s} projectName={projectName} />
              )),
          },
        ]}
      />
    </Space>
  );
}

export function EffectivePermissionsButton({
  userId,
  email,
}: {
  userId: string;
  email?: string | undefined;
}) {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        size="small"
        icon={<SafetyCertificateOutlined />}
        onClick={() => setOpen(true)}
        data-testid={`effective-${email ?? userId}`}
      >
        {t('roles.effective')}
      </Button>
      <Drawer
        width={560}
        open={open}
        onClose={() => setOpen(false)}
        title={t('roles.effective_of', { who: email ?? userId })}
        destroyOnClose
      >
        {open ? <EffectivePermissionsView userId={userId} /> : null}
      </Drawer>
    </>
  );
}
