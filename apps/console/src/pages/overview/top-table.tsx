import { Card, Table, Typography } from 'antd';
import type { Ranked } from '../../components/usage.ts';
import { useT } from '../../i18n/index.tsx';
import { formatCompact, formatCost, formatNumber } from '../../lib/format.ts';

/** The five busiest models, projects or keys of the range, with a bar for their share. */
export function TopTable({
  title,
  rows,
  name,
  testId,
}: {
  title: string;
  rows: Ranked[];
  name: (id: string) => string;
  testId: string;
}) {
  const t = useT();
  const max = rows[0]?.requests ?? 1;
  return (
    <Card title={title} size="small" style={{ height: '100%' }} data-testid={testId}>
      <Table<Ranked>
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={rows.slice(0, 5)}
        locale={{ emptyText: t('overview.no_data') }}
        columns={[
          {
            title: t('common.name'),
            dataIndex: 'id',
            render: (id: string, r) => (
              <div>
                <Typography.Text ellipsis style={{ maxWidth: 180 }}>
                  {name(id)}
                </Typography.Text>
                <div
                  style={{
                    height: 4,
                    marginTop: 4,
                    borderRadius: 2,
                    background: '#4f7cff',
                    opacity: 0.75,
                    width: `${Math.max(4, (r.requests / max) * 100)}%`,
                  }}
                />
              </div>
            ),
          },
          {
            title: t('metric.requests'),
            dataIndex: 'requests',
            align: 'right',
            render: (v: number) => formatNumber(v),
          },
          {
            title: t('metric.tokens'),
            dataIndex: 'tokens',
            align: 'right',
            render: (v: number) => formatCompact(v),
          },
          {
            title: t('metric.cost'),
            dataIndex: 'cost',
            align: 'right',
            render: (v: number, r) => formatCost(v, r.currency),
          },
        ]}
      />
    </Card>
  );
}
