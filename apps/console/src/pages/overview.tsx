import { ExperimentOutlined, KeyOutlined, ReloadOutlined } from '@ant-design/icons';
import { StatisticCard } from '@ant-design/pro-components';
import { Button, Card, Col, Row, Space, Typography } from 'antd';
import type { EChartsOption } from 'echarts';
import { Link } from 'react-router';
import { useKeys, useNames, useProjects } from '../api/queries.ts';
import type { UsageRow } from '../api/types.ts';
import { Chart, useAxisStyle } from '../components/chart.tsx';
import { Page } from '../components/page.tsx';
import { useTimeRange } from '../components/range-selector.tsx';
import { EmptyState, ErrorAlert, FeatureUnavailable, isMissingRoute } from '../components/states.tsx';
import { bucketLabel, bucketsOf, byBucket, rank, useUsage } from '../components/usage.ts';
import { useT } from '../i18n/index.tsx';
import { formatCompact, formatCost, formatMs, formatNumber, formatPercent } from '../lib/format.ts';
import { TopTable } from './overview/top-table.tsx';

export default function OverviewPage() {
  const t = useT();
  const axis = useAxisStyle();
  const { range, selector } = useTimeRange('7d');
  const series = useUsage(range, 'org');
  const breakdown = useUsage(range, 'model,project,key', {}, 'day');
  const projects = useProjects();
  const keys = useKeys();
  const projectName = useNames(projects.data);
  const keyName = useNames(keys.data);

  if (isMissingRoute(series.error)) {
    return (
      <Page id="overview" title={t('nav.overview')}>
        <FeatureUnavailable feature={t('overview.usage_feature')} />
      </Page>
    );
  }
  const total: UsageRow | undefined = series.data?.totals[0];
  const currency = total?.currency ?? 'USD';
  const buckets = bucketsOf(range);
  const rows = byBucket(series.data?.data ?? []);
  const at = (b: string) => rows.get(new Date(b).getTime());
  const labels = buckets.map((b) => bucketLabel(b, range.granularity));
  const xAxis = { type: 'category' as const, data: labels, ...axis, boundaryGap: true };
  const yAxis = { type: 'value' as const, minInterval: 1, ...axis };
  const empty = !series.isLoading && (total?.requests ?? 0) === 0;

  const requestsChart: EChartsOption = {
    xAxis,
    yAxis,
    series: [
      {
        name: t('metric.requests'),
        type: 'bar',
        stack: 'r',
        data: buckets.map((b) => (at(b)?.requests ?? 0) - (at(b)?.errors ?? 0)),
        itemStyle: { borderRadius: [0, 0, 0, 0] },
      },
      {
        name: t('metric.errors'),
        type: 'bar',
        stack: 'r',
        data: buckets.map((b) => at(b)?.errors ?? 0),
        itemStyle: { color: '#ff4d6d' },
      },
    ],
  };
  const tokensChart: EChartsOption = {
    xAxis: { ...xAxis, boundaryGap: false },
    yAxis,
    series: [
      {
        name: t('metric.prompt_tokens'),
        type: 'line',
        stack: 'tk',
        areaStyle: { opacity: 0.25 },
        showSymbol: false,
        data: buckets.map((b) => at(b)?.prompt_tokens ?? 0),
      },
      {
        name: t('metric.completion_tokens'),
        type: 'line',
        stack: 'tk',
        areaStyle: { opacity: 0.25 },
        showSymbol: false,
        data: buckets.map((b) => at(b)?.completion_tokens ?? 0),
      },
    ],
  };
  const latencyChart: EChartsOption = {
    xAxis: { ...xAxis, boundaryGap: false },
    yAxis: { ...yAxis, minInterval: 0, axisLabel: { ...axis.axisLabel, formatter: '{value} ms' } },
    series: [
      {
        name: 'p50',
        type: 'line',
        connectNulls: true,
        data: buckets.map((b) => (at(b)?.requests ? at(b)!.latency_p50_ms : null)),
      },
      {
        name: 'p95',
        type: 'line',
        connectNulls: true,
        data: buckets.map((b) => (at(b)?.requests ? at(b)!.latency_p95_ms : null)),
      },
    ],
  };
  const costChart: EChartsOption = {
    xAxis,
    yAxis: { ...yAxis, minInterval: 0 },
    series: [
      {
        name: `${t('metric.cost')} (${currency})`,
        type: 'bar',
        data: buckets.map((b) => Number((at(b)?.cost ?? 0).toFixed(6))),
        itemStyle: { color: '#ffa940', borderRadius: [4, 4, 0, 0] },
      },
    ],
  };
  const n = total?.requests ?? 0;
  const stats = [
    {
      key: 'requests',
      title: t('metric.requests'),
      value: formatNumber(n),
      description: t('overview.stat_succeeded', { n: formatNumber(n - (total?.errors ?? 0)) }),
    },
    {
      key: 'tokens',
      title: t('metric.tokens'),
      value: formatCompact(total?.total_tokens ?? 0),
      description: t('overview.stat_tokens', {
        in: formatCompact(total?.prompt_tokens ?? 0),
        out: formatCompact(total?.completion_tokens ?? 0),
      }),
    },
    {
      key: 'errors',
      title: t('metric.errors'),
      value: formatNumber(total?.errors ?? 0),
      description: t('overview.error_rate', { rate: n ? formatPercent((total?.errors ?? 0) / n) : '—' }),
    },
    {
      key: 'p50',
      title: t('metric.p50'),
      value: n ? formatMs(total?.latency_p50_ms) : '—',
      description: t('overview.stat_p50'),
    },
    {
      key: 'p95',
      title: t('metric.p95'),
      value: n ? formatMs(total?.latency_p95_ms) : '—',
      description: t('overview.stat_p95'),
    },
    {
      key: 'cost',
      title: t('metric.cost'),
      value: formatCost(total?.cost ?? 0, currency),
      description: t('overview.stat_cost', { currency }),
    },
  ];

  return (
    <Page
      id="overview"
      title={t('nav.overview')}
      subTitle={t('overview.subtitle')}
      extra={[
        <span key="r">{selector}</span>,
        <Button
          key="reload"
          icon={<ReloadOutlined />}
          onClick={() => {
            void series.refetch();
            void breakdown.refetch();
          }}
        />,
      ]}
    >
      {series.error ? <ErrorAlert error={series.error} onRetry={() => series.refetch()} /> : null}
      <Row gutter={[16, 16]}>
        {stats.map((s) => (
          <Col key={s.key} xs={12} md={8} xl={4}>
            <StatisticCard
              loading={series.isLoading}
              className="maas-stat"
              data-testid={`stat-${s.key}`}
              statistic={{
                title: s.title,
                value: s.value,
                description: (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {s.description}
                  </Typography.Text>
                ),
              }}
            />
          </Col>
        ))}
      </Row>
      {empty ? (
        <Card style={{ marginTop: 16 }}>
          <EmptyState
            title={t('overview.empty')}
            hint={t('overview.empty_hint')}
            action={
              <Space>
                <Link to="/keys">
                  <Button type="primary" icon={<KeyOutlined />}>
                    {t('keys.new')}
                  </Button>
                </Link>
                <Link to="/playground">
                  <Button icon={<ExperimentOutlined />}>{t('nav.playground')}</Button>
                </Link>
              </Space>
            }
          />
        </Card>
      ) : null}
      {empty ? null : (
        <>
          <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
            <Col xs={24} xl={12}>
              <Card title={t('overview.requests_chart')} size="small">
                <Chart option={requestsChart} testId="chart-requests" />
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card title={t('overview.tokens_chart')} size="small">
                <Chart option={tokensChart} testId="chart-tokens" />
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card title={t('overview.latency_chart')} size="small">
                <Chart option={latencyChart} testId="chart-latency" />
              </Card>
            </Col>
            <Col xs={24} xl={12}>
              <Card title={t('overview.cost_chart')} size="small">
                <Chart option={costChart} testId="chart-cost" />
              </Card>
            </Col>
          </Row>
          <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
            <Col xs={24} xl={8}>
              <TopTable
                title={t('overview.top_models')}
                rows={rank(breakdown.data?.data ?? [], 'model')}
                name={(id) => id}
                testId="top-models"
              />
            </Col>
            <Col xs={24} xl={8}>
              <TopTable
                title={t('overview.top_projects')}
                rows={rank(breakdown.data?.data ?? [], 'project_id')}
                name={projectName}
                testId="top-projects"
              />
            </Col>
            <Col xs={24} xl={8}>
              <TopTable
                title={t('overview.top_keys')}
                rows={rank(breakdown.data?.data ?? [], 'key_id')}
                name={keyName}
                testId="top-keys"
              />
            </Col>
          </Row>
        </>
      )}
    </Page>
  );
}
