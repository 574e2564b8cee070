import { useQuery } from '@tanstack/react-query';
import { Card, Table, Tag, Typography } from 'antd';
import { listAll } from '../../api/client.ts';
import { useOrgKey } from '../../api/queries.ts';
import type { ApiKey } from '../../api/types.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime } from '../../lib/format.ts';

/** The API keys the signed-in user created in this org (never their secrets). */
export function MyKeysCard() {
  const t = useT();
  const keys = useQuery({
    queryKey: useOrgKey('my-keys'),
    queryFn: () => listAll<ApiKey>('/api/v1/me/keys'),
  });
  return (
    <Card title={t('profile.keys')} data-testid="my-keys-card">
      <Typography.Paragraph type="secondary">{t('profile.keys_hint')}</Typography.Paragraph>
      {keys.error ? <ErrorAlert error={keys.error} onRetry={() => keys.refetch()} /> : null}
      <Table<ApiKey>
        size="small"
        rowKey="id"
        loading={keys.isLoading}
        dataSource={keys.data}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        locale={{ emptyText: t('profile.keys_empty') }}
        columns={[
          { title: t('common.name'), dataIndex: 'name' },
          {
            title: t('profile.key_prefix'),
            dataIndex: 'prefix',
            render: (p: string) => <Typography.Text code>{p}</Typography.Text>,
          },
          { title: t('common.status'), dataIndex: 'status', render: (s: string) => <Tag>{s}</Tag> },
          { title: t('common.created'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v) },
        ]}
      />
    </Card>
  );
}
