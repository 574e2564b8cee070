import { DownloadOutlined } from '@ant-design/icons';
import { App, Button, Card, Segmented, Select, Space, Table, Tabs, Typography } from 'antd';
import type { EChartsOption } from 'echarts';
import { useState } from 'react';
import { getText } from '../api/client.ts';
import { useKeys, useModels, useNames, useProjects } from '../api/queries.ts';
import type { UsageRow } from '../api/types.ts';
import { Chart, useAxisStyle } from '../components/chart.tsx';
import { useErrorText } from '../components/error-text.ts';
import { Page } from '../components/page.tsx';
import { useTimeRange } from '../components/range-selector.tsx';
import { EmptyState, ErrorAlert, FeatureUnavailable, isMissingRoute } from '../components/states.tsx';
import { bucketLabel, bucketsOf, useUsage } from '../components/usage.ts';
import { useT } from '../i18n/index.tsx';
import { downloadText } from '../lib/csv.ts';
import { formatCompact, formatCost, formatMs, formatNumber } from '../lib/format.ts';
import { BillsTab } from './usage/bills.tsx';
import { useUsers } from './usage/users.ts';

type Dimension = 'model' | 'project' | 'key' | 'user';
type Metric = 'requests' | 'total_tokens' | 'cost';
const FIELD = { model: 'model', project: 'project_id', key: 'key_id', user: 'user_id' } as const;

interface GroupTotal {
  id: string;
  currency: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
  latency_avg_ms: number;
}

function groupTotals(rows: UsageRow[], dim: Dimension): GroupTotal[] {
  const map = new Map<string, GroupTotal & { latencySum: number }>();
  for (const r of rows) {
    const id = r[FIELD[dim]] ?? '—';
    const g = map.get(`${id}|${r.currency}`) ?? {
      id,
      currency: r.currency,
      requests: 0,
      errors: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      cost: 0,
      latency_avg_ms: 0,
      latencySum: 0,
    };
    g.requests += r.requests;
    g.errors += r.errors;
    g.prompt_tokens += r.prompt_tokens;
    g.completion_tokens += r.completion_tokens;
    g.total_tokens += r.total_tokens;
    g.cost += r.cost;
    g.latencySum += r.latency_avg_ms * r.requests;
    map.set(`${id}|${r.currency}`, g);
  }
  return [...map.values()]
    .map(({ latencySum, ...g }) => ({ ...g, latency_avg_ms: g.requests ? latencySum / g.requests : 0 }))
    .sort((a, b) => b.requests - a.requests);
}

function UsageTab() {
  const t = useT();
  const axis = useAxisStyle();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const { range, selector } = useTimeRange('7d');
  const [dim, setDim] = useState<Dimension>('model');
  const [metric, setMetric] = useState<Metric>('requests');
  const [filters, setFilters] = useState<{
    project_id?: string;
    key_id?: string;
    user_id?: string;
    model?: string;
  }>({});
  const usage = useUsage(range, dim, filters);
  const projects = useProjects();
  const keys = useKeys();
  const models = useModels();
  const projectName = useNames(projects.data);
  const keyName = useNames(keys.data);
  const users = useUsers();
  const userName = (id: string) => users.data?.find((u) => u.id === id)?.email ?? (id || t('usage.no_user'));
  const nameOf = (id: string) =>
    dim === 'project' ? projectName(id) : dim === 'key' ? keyName(id) : dim === 'user' ? userName(id) : id;
  const rows = usage.data?.data ?? [];
  const totals = groupTotals(rows, dim);
  const buckets = bucketsOf(range);
  const top = totals.slice(0, 8).map((g) => g.id);
  const value = (r: UsageRow) => (metric === 'cost' ? r.cost : r[metric]);

  const chart: EChartsOption = {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: buckets.map((b) => bucketLabel(b, range.granularity)), ...axis },
    yAxis: { type: 'value', ...axis },
    series: top.map((id) => ({
      name: nameOf(id),
      type: 'bar',
      stack: 'usage',
      emphasis: { focus: 'series' },
      data: buckets.map((b) => {
        const time = new Date(b).getTime();
        return rows
          .filter((r) => (r[FIELD[dim]] ?? '—') === id && new Date(r.bucket_start).getTime() === time)
          .reduce((s, r) => s + value(r), 0);
      }),
    })),
  };

  const exportCsv = async () => {
    try {
      const csv = await getText('/api/v1/usage', {
        group_by: dim,
        granularity: range.granularity,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        format: 'csv',
        ...filters,
      });
      downloadText(`maas-usage-${range.from.format('YYYYMMDD')}-${range.to.format('YYYYMMDD')}.csv`, csv);
    } catch (err) {
      message.error(errorText(err));
    }
  };

  if (isMissingRoute(usage.error)) return <FeatureUnavailable feature={t('nav.usage')} />;
  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card size="small">
        <Space wrap size={[16, 8]}>
          {selector}
          <Select
            allowClear
            placeholder={t('keys.all_projects')}
            style={{ width: 170 }}
            value={filters.project_id}
            onChange={(v) => setFilters({ ...filters, project_id: v })}
            options={(projects.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
          />
          <Select
            allowClear
            placeholder={t('usage.all_keys')}
            style={{ width: 170 }}
            value={filters.key_id}
            onChange={(v) => setFilters({ ...filters, key_id: v })}
            options={(keys.data ?? []).map((k) => ({ value: k.id, label: k.name }))}
          />
          <Select
            allowClear
            showSearch
            placeholder={t('usage.all_users')}
            style={{ width: 200 }}
            value={filters.user_id}
            onChange={(v) => setFilters({ ...filters, user_id: v })}
            options={(users.data ?? []).map((u) => ({ value: u.id, label: u.email }))}
            data-testid="usage-user-filter"
          />
          <Select
            allowClear
            placeholder={t('usage.all_models')}
            style={{ width: 170 }}
            value={filters.model}
            onChange={(v) => setFilters({ ...filters, model: v })}
            options={(models.data ?? []).map((m) => ({ value: m.name, label: m.name }))}
          />
        </Space>
      </Card>
      {usage.error ? <ErrorAlert error={usage.error} onRetry={() => usage.refetch()} /> : null}
      <Card
        size="small"
        title={t('usage.chart_title')}
        extra={
          <Space wrap>
            <Segmented
              value={dim}
              onChange={(v) => setDim(v as Dimension)}
              options={(['model', 'project', 'key', 'user'] as const).map((d) => ({
                value: d,
                label: t(`usage.by_${d}`),
              }))}
            />
            <Segmented
              value={metric}
              onChange={(v) => setMetric(v as Metric)}
              options={[
                { value: 'requests', label: t('metric.requests') },
                { value: 'total_tokens', label: t('metric.tokens') },
                { value: 'cost', label: t('metric.cost') },
              ]}
            />
          </Space>
        }
      >
        {!usage.isLoading && rows.length === 0 ? (
          <EmptyState title={t('usage.empty')} hint={t('usage.empty_hint')} />
        ) : (
          <Chart option={chart} height={320} testId="usage-chart" />
        )}
      </Card>
      <Card
        size="small"
        title={t('usage.table_title')}
        extra={
          <Button
            icon={<DownloadOutlined />}
            onClick={exportCsv}
            disabled={rows.length === 0}
            data-testid="usage-export"
          >
            {t('usage.export_csv')}
          </Button>
        }
      >
        <Table<GroupTotal>
          size="small"
          rowKey={(g) => `${g.id}|${g.currency}`}
          loading={usage.isLoading}
          dataSource={totals}
          pagination={{ pageSize: 10, hideOnSinglePage: true }}
          scroll={{ x: 900 }}
          data-testid="usage-table"
          locale={{ emptyText: t('usage.empty') }}
          columns={[
            {
              title: t(`usage.dim_${dim}`),
              dataIndex: 'id',
              render: (id: string) => <Typography.Text strong>{nameOf(id)}</Typography.Text>,
            },
            {
              title: t('metric.requests'),
              dataIndex: 'requests',
              align: 'right',
              sorter: (a, b) => a.requests - b.requests,
              render: (v: number) => formatNumber(v),
            },
            {
              title: t('metric.errors'),
              dataIndex: 'errors',
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
              title: t('metric.avg_latency'),
              dataIndex: 'latency_avg_ms',
              align: 'right',
              render: (v: number) => formatMs(v),
            },
            {
              title: t('metric.cost'),
              dataIndex: 'cost',
              align: 'right',
              sorter: (a, b) => a.cost - b.cost,
              render: (v: number, g) => formatCost(v, g.currency),
            },
          ]}
        />
      </Card>
    </Space>
  );
}

export default function UsagePage() {
  const t = useT();
  return (
    <Page id="usage" title={t('nav.usage')} subTitle={t('usage.subtitle')}>
      <Tabs
        items={[
          { key: 'usage', label: t('usage.tab_usage'), children: <UsageTab /> },
          { key: 'bills', label: t('usage.tab_bills'), children: <BillsTab /> },
        ]}
      />
    </Page>
  );
}
