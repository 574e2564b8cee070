import { DownloadOutlined, FileDoneOutlined, LockOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { App, Badge, Button, Card, DatePicker, Popconfirm, Space, Table, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';
import { api, getText, listAll } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useNames, useOrgKey, useProjects } from '../../api/queries.ts';
import { useAuth } from '../../auth/auth.tsx';
import { useErrorText } from '../../components/error-text.ts';
import { EmptyState, ErrorAlert, FeatureUnavailable, isMissingRoute } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { downloadText } from '../../lib/csv.ts';
import { formatCompact, formatCost, formatDateTime, formatNumber } from '../../lib/format.ts';

interface Totals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost: number;
}
interface BillLine extends Totals {
  project_id: string;
  model: string;
  currency: string;
}
interface Bill {
  id: string;
  period: string;
  status: 'draft' | 'finalized';
  totals: Record<string, Totals>;
  created_at: string;
  updated_at: string;
  finalized_at: string | null;
  lines?: BillLine[];
}

function BillLines({ id }: { id: string }) {
  const t = useT();
  const projects = useProjects();
  const projectName = useNames(projects.data);
  const bill = useQuery({
    queryKey: useOrgKey('bills', id),
    queryFn: () => api.get<Bill>(`/api/v1/bills/${id}`),
  });
  if (bill.error) return <ErrorAlert error={bill.error} />;
  return (
    <Table<BillLine>
      size="small"
      loading={bill.isLoading}
      rowKey={(l) => `${l.project_id}|${l.model}|${l.currency}`}
      dataSource={bill.data?.lines}
      pagination={false}
      columns={[
        { title: t('keys.project'), dataIndex: 'project_id', render: (v: string) => projectName(v) },
        { title: t('playground.model'), dataIndex: 'model' },
        {
          title: t('metric.requests'),
          dataIndex: 'requests',
          align: 'right',
          render: (v: number) => formatNumber(v),
        },
        {
          title: t('metric.prompt_tokens'),
          dataIndex: 'prompt_tokens',
          align: 'right',
          render: (v: number) => formatCompact(v),
        },
        {
          title: t('metric.completion_tokens'),
          dataIndex: 'completion_tokens',
          align: 'right',
          render: (v: number) => formatCompact(v),
        },
        {
          title: t('metric.cost'),
          dataIndex: 'cost',
          align: 'right',
          render: (v: number, l) => formatCost(v, l.currency),
        },
      ]}
    />
  );
}

export function BillsTab() {
  const t = useT();
  const { can } = useAuth();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const [period, setPeriod] = useState<Dayjs>(dayjs());
  const bills = useQuery({ queryKey: useOrgKey('bills'), queryFn: () => listAll<Bill>('/api/v1/bills') });
  const generate = useApiMutation((p: string) => api.post<Bill>('/api/v1/bills', { period: p }), {
    success: t('bills.generated'),
    invalidate: ['bills'],
  });
  const finalize = useApiMutation((id: string) => api.post<Bill>(`/api/v1/bills/${id}/finalize`, {}), {
    success: t('bills.finalized'),
    invalidate: ['bills'],
  });
  const download = async (b: Bill) => {
    try {
      downloadText(`maas-bill-${b.period}.csv`, await getText(`/api/v1/bills/${b.id}`, { format: 'csv' }));
    } catch (err) {
      message.error(errorText(err));
    }
  };
  if (isMissingRoute(bills.error)) return <FeatureUnavailable feature={t('usage.tab_bills')} />;
  const ended = (p: string) => dayjs(`${p}-01`).endOf('month').isBefore(dayjs());
  return (
    <Card
      size="small"
      title={t('bills.title')}
      extra={
        can('write') ? (
          <Space>
            <DatePicker
              picker="month"
              value={period}
              allowClear={false}
              onChange={(v) => v && setPeriod(v)}
              disabledDate={(d) => d.isAfter(dayjs(), 'month')}
            />
            <Button
              type="primary"
              icon={<FileDoneOutlined />}
              loading={generate.isPending}
              onClick={() => generate.mutate(period.format('YYYY-MM'))}
            >
              {t('bills.generate')}
            </Button>
          </Space>
        ) : null
      }
    >
      <Typography.Paragraph type="secondary">{t('bills.hint')}</Typography.Paragraph>
      {bills.error ? <ErrorAlert error={bills.error} onRetry={() => bills.refetch()} /> : null}
      <Table<Bill>
        rowKey="id"
        loading={bills.isLoading}
        dataSource={bills.data}
        pagination={{ pageSize: 12, hideOnSinglePage: true }}
        expandable={{ expandedRowRender: (b) => <BillLines id={b.id} /> }}
        locale={{
          emptyText: (
            <EmptyState title={t('bills.empty')} hint={can('write') ? t('bills.empty_hint') : undefined} />
          ),
        }}
        columns={[
          {
            title: t('bills.period'),
            dataIndex: 'period',
            render: (v: string) => <Typography.Text strong>{v}</Typography.Text>,
          },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: Bill['status']) => (
              <Badge status={s === 'finalized' ? 'success' : 'processing'} text={t(`bills.status.${s}`)} />
            ),
          },
          {
            title: t('metric.requests'),
            key: 'req',
            align: 'right',
            render: (_, b) => formatNumber(Object.values(b.totals).reduce((s, x) => s + x.requests, 0)),
          },
          {
            title: t('metric.tokens'),
            key: 'tok',
            align: 'right',
            render: (_, b) =>
              formatCompact(
                Object.values(b.totals).reduce((s, x) => s + x.prompt_tokens + x.completion_tokens, 0),
              ),
          },
          {
            title: t('metric.cost'),
            key: 'cost',
            align: 'right',
            render: (_, b) =>
              Object.entries(b.totals)
                .map(([c, x]) => formatCost(x.cost, c))
                .join(' + ') || '—',
          },
          { title: t('bills.updated'), dataIndex: 'updated_at', render: (v: string) => formatDateTime(v) },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_, b) => (
              <Space size={0}>
                <Button type="link" size="small" icon={<DownloadOutlined />} onClick={() => download(b)}>
                  CSV
                </Button>
                {can('write') && b.status === 'draft' && ended(b.period) ? (
                  <Popconfirm
                    title={t('bills.finalize_title', { period: b.period })}
                    description={t('bills.finalize_hint')}
                    onConfirm={() => finalize.mutateAsync(b.id)}
                  >
                    <Button type="link" size="small" icon={<LockOutlined />}>
                      {t('bills.finalize')}
                    </Button>
                  </Popconfirm>
                ) : null}
              </Space>
            ),
          },
        ]}
      />
    </Card>
  );
}
