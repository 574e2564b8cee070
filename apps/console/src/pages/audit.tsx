import { LeftOutlined, RightOutlined, SearchOutlined } from '@ant-design/icons';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import {
  Alert,
  AutoComplete,
  Button,
  Card,
  DatePicker,
  Descriptions,
  Form,
  Input,
  Select,
  Space,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { api, type Page as ListPage, listAll } from '../api/client.ts';
import { useKeys, useOrgKey } from '../api/queries.ts';
import type { AuditEvent, User } from '../api/types.ts';
import { JsonDiff } from '../components/json-diff.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { formatDateTime, fromNow } from '../lib/format.ts';
import { AUDIT_ACTIONS, actionColor, ChainStatus } from './audit/chain-status.tsx';

interface Filters {
  actor?: string;
  action?: string;
  target?: string;
  from?: string;
  to?: string;
}

export default function AuditPage() {
  const t = useT();
  const [form] = Form.useForm();
  const [filters, setFilters] = useState<Filters>({});
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const events = useQuery({
    queryKey: useOrgKey('audit', filters, cursor),
    queryFn: () => api.get<ListPage<AuditEvent>>('/api/v1/audit-events', { ...filters, limit: 20, cursor }),
    placeholderData: keepPreviousData,
  });
  const users = useQuery({ queryKey: useOrgKey('users'), queryFn: () => listAll<User>('/api/v1/users') });
  const keys = useKeys();
  const actorName = (e: AuditEvent) => {
    if (!e.actor_id) return t(`audit.actor.${e.actor_type === 'system' ? 'system' : 'anonymous'}`);
    if (e.actor_type === 'user') return users.data?.find((u) => u.id === e.actor_id)?.email ?? e.actor_id;
    if (e.actor_type === 'key')
      return `${t('audit.actor.key')} ${keys.data?.find((k) => k.id === e.actor_id)?.name ?? e.actor_id}`;
    return e.actor_id;
  };

  return (
    <Page id="audit" title={t('nav.audit')} subTitle={t('audit.subtitle')}>
      <ChainStatus />
      <Card size="small" style={{ marginBottom: 16 }}>
        <Form
          form={form}
          layout="inline"
          onFinish={(v: { actor?: string; action?: string; target?: string; range?: [Dayjs, Dayjs] }) => {
            setCursors([null]);
            setFilters({
              actor: v.actor?.trim() || undefined,
              action: v.action?.trim() || undefined,
              target: v.target?.trim() || undefined,
              from: v.range?.[0]?.toISOString(),
              to: v.range?.[1]?.toISOString(),
            });
          }}
          style={{ rowGap: 8 }}
        >
          <Form.Item name="action" label={t('audit.action')}>
            <AutoComplete
              allowClear
              placeholder="key.create"
              style={{ width: 190 }}
              options={AUDIT_ACTIONS.map((a) => ({ value: a }))}
              filterOption={(input, option) => String(option?.value ?? '').includes(input)}
            />
          </Form.Item>
          <Form.Item name="actor" label={t('audit.actor')}>
            <Select
              allowClear
              showSearch
              optionFilterProp="label"
              placeholder={t('audit.actor_placeholder')}
              style={{ width: 220 }}
              options={[
                ...(users.data ?? []).map((u) => ({ value: u.id, label: u.email })),
                ...(keys.data ?? []).map((k) => ({
                  value: k.id,
                  label: `${t('audit.actor.key')} ${k.name}`,
                })),
              ]}
            />
          </Form.Item>
          <Form.Item name="target" label={t('audit.target')}>
            <Input placeholder="key_…" allowClear style={{ width: 160 }} />
          </Form.Item>
          <Form.Item name="range" label={t('audit.time')}>
            <DatePicker.RangePicker showTime />
          </Form.Item>
          <Space>
            <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
              {t('action.search')}
            </Button>
            <Button
              onClick={() => {
                form.resetFields();
                setCursors([null]);
                setFilters({});
              }}
            >
              {t('action.reset')}
            </Button>
          </Space>
        </Form>
      </Card>
      {events.error ? <ErrorAlert error={events.error} onRetry={() => events.refetch()} /> : null}
      <Card
        size="small"
        title={t('audit.events')}
        extra={<Typography.Text type="secondary">{t('audit.expand_hint')}</Typography.Text>}
      >
        <Table<AuditEvent>
          rowKey="id"
          size="middle"
          loading={events.isLoading || (events.isFetching && events.isPlaceholderData)}
          dataSource={events.data?.data}
          pagination={false}
          scroll={{ x: 900 }}
          locale={{
            emptyText: (
              <EmptyState
                title={t('audit.empty')}
                hint={
                  Object.values(filters).some(Boolean) ? t('audit.empty_filtered') : t('audit.empty_hint')
                }
              />
            ),
          }}
          expandable={{
            expandedRowRender: (e) => (
              <Space direction="vertical" style={{ width: '100%' }} size={12}>
                <Descriptions
                  size="small"
                  column={{ xs: 1, md: 2, xl: 3 }}
                  items={[
                    { key: 'id', label: 'ID', children: <span className="maas-mono">{e.id}</span> },
                    {
                      key: 'request',
                      label: t('audit.request_id'),
                      children: <span className="maas-mono">{e.request_id ?? '—'}</span>,
                    },
                    { key: 'ip', label: 'IP', children: e.ip ?? '—' },
                    {
                      key: 'ua',
                      label: t('audit.user_agent'),
                      children: (
                        <Typography.Text ellipsis style={{ maxWidth: 320 }}>
                          {e.user_agent ?? '—'}
                        </Typography.Text>
                      ),
                    },
                    {
                      key: 'hash',
                      label: t('audit.hash'),
                      children: (
                        <Tooltip title={`${t('audit.prev_hash')}: ${e.prev_hash}`}>
                          <span className="maas-mono">{e.hash.slice(0, 16)}…</span>
                        </Tooltip>
                      ),
                    },
                  ]}
                />
                <JsonDiff before={e.before} after={e.after} />
              </Space>
            ),
          }}
          columns={[
            {
              title: t('audit.time'),
              dataIndex: 'created_at',
              width: 190,
              render: (v: string) => <Tooltip title={fromNow(v)}>{formatDateTime(v)}</Tooltip>,
            },
            {
              title: t('audit.action'),
              dataIndex: 'action',
              render: (a: string) => (
                <Tag color={actionColor(a)} className="maas-mono">
                  {a}
                </Tag>
              ),
            },
            { title: t('audit.actor'), key: 'actor', render: (_, e) => actorName(e) },
            {
              title: t('audit.target'),
              key: 'target',
              render: (_, e) =>
                e.target_type ? (
                  <span>
                    <Typography.Text type="secondary">{e.target_type}</Typography.Text>{' '}
                    <span className="maas-mono">{e.target_id}</span>
                  </span>
                ) : (
                  '—'
                ),
            },
            { title: 'IP', dataIndex: 'ip', width: 130, render: (v: string | null) => v ?? '—' },
          ]}
        />
        <Space style={{ marginTop: 12, width: '100%', justifyContent: 'flex-end' }}>
          <Button
            icon={<LeftOutlined />}
            disabled={cursors.length <= 1}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            {t('action.newer')}
          </Button>
          <Button
            disabled={!events.data?.next_cursor}
            onClick={() => setCursors((c) => [...c, events.data?.next_cursor ?? null])}
          >
            {t('action.older')} <RightOutlined />
          </Button>
        </Space>
      </Card>
      {filters.from && filters.to && filters.from > filters.to ? (
        <Alert type="warning" message={t('audit.bad_range')} />
      ) : null}
    </Page>
  );
}
