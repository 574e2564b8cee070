import { DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import {
  ModalForm,
  ProFormDependency,
  ProFormDigit,
  ProFormGroup,
  ProFormSelect,
  ProFormText,
} from '@ant-design/pro-components';
import type { ApiItem, ApiResponse } from '@maas/contracts';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Descriptions, Drawer, Popconfirm, Progress, Space, Spin, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, listAll } from '../api/client.ts';
import { succeeded, useApiMutation } from '../api/mutation.ts';
import { useModels, useOrgKey } from '../api/queries.ts';
import { useAuth } from '../auth/auth.tsx';
import { useT } from '../i18n/index.tsx';
import { formatCompact, formatNumber } from '../lib/format.ts';
import { EmptyState, ErrorAlert } from './states.tsx';

export type LimitScope = LimitPolicy['scope'];
const PERIODS = ['day', 'week', 'month', 'total'] as const;
const COUNTS = ['rpm', 'rpd', 'tpm', 'tpd', 'max_concurrent', 'token_quota'] as const;

export type LimitPolicy = ApiItem<'/api/v1/limits'>;

type FormValues = Partial<Omit<LimitPolicy, 'soft_threshold'>> & { soft_threshold_pct?: number | null };

/** The limits of a form; on create, limits left empty are left out (null removes one on update). */
function bodyOf(v: FormValues, creating: boolean) {
  const body: Record<string, unknown> = {};
  for (const k of COUNTS) body[k] = v[k] ?? null;
  body.budget = v.budget ?? null;
  body.quota_period = v.token_quota ? (v.quota_period ?? 'month') : null;
  body.budget_period = v.budget ? (v.budget_period ?? 'month') : null;
  body.soft_threshold = v.soft_threshold_pct ? v.soft_threshold_pct / 100 : null;
  body.webhook_url = v.webhook_url || null;
  body.description = v.description || null;
  return creating ? Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null)) : body;
}

function PolicyUsage({ id }: { id: string }) {
  const t = useT();
  const usage = useQuery({
    queryKey: useOrgKey('limit-usage', id),
    queryFn: () => api.get<ApiResponse<'/api/v1/limits/{id}/usage'>>(`/api/v1/limits/${id}/usage`),
    refetchInterval: 10_000,
  });
  if (usage.isLoading) return <Spin size="small" />;
  if (!usage.data?.counters.length) return null;
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={4}>
      {usage.data.counters.map((c) => {
        const taken = c.used + c.reserved + c.held;
        const pct = c.limit > 0 ? Math.min(100, (taken / c.limit) * 100) : 0;
        return (
          <div key={c.dimension}>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t(`limits.dim.${c.dimension}` as 'limits.dim.rpm')} · {formatNumber(taken, 2)} /{' '}
              {formatNumber(c.limit, 2)}
            </Typography.Text>
            <Progress
              percent={Math.round(pct)}
              size="small"
              status={pct >= 100 ? 'exception' : pct >= 80 ? 'active' : 'normal'}
            />
          </div>
        );
      })}
    </Space>
  );
}

/** Rate limits, quotas and budgets of one org, project or key, with their current usage. */
export function LimitsDrawer({
  scope,
  scopeId,
  title,
  onClose,
}: {
  scope: LimitScope;
  scopeId: string | null;
  title: string;
  onClose(): void;
}) {
  const t = useT();
  const { can } = useAuth();
  const canWrite = can('write');
  const models = useModels();
  const [editing, setEditing] = useState<LimitPolicy | 'new' | null>(null);
  const policies = useQuery({
    queryKey: useOrgKey('limits', scope, scopeId),
    queryFn: () => listAll<LimitPolicy>('/api/v1/limits', { scope, scope_id: scopeId }),
    enabled: scopeId !== null,
  });
  const save = useApiMutation(
    ({ id, values }: { id?: string; values: FormValues }) =>
      id
        ? api.patch(`/api/v1/limits/${id}`, bodyOf(values, false))
        : api.post('/api/v1/limits', {
            scope,
            scope_id: scopeId,
            ...(values.model ? { model: values.model } : {}),
            ...bodyOf(values, true),
          }),
    { success: t('common.saved'), invalidate: ['limits', 'limit-usage'] },
  );
  const remove = useApiMutation((id: string) => api.del(`/api/v1/limits/${id}`), {
    success: t('limits.deleted'),
    invalidate: ['limits'],
  });
  const periodOptions = PERIODS.map((p) => ({ value: p, label: t(`limits.period.${p}`) }));
  const current = editing && editing !== 'new' ? editing : null;

  return (
    <Drawer
      open={scopeId !== null}
      onClose={onClose}
      width={560}
      title={title}
      destroyOnHidden
      extra={
        canWrite ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
            {t('limits.add')}
          </Button>
        ) : null
      }
    >
      <Typography.Paragraph type="secondary">{t('limits.hint')}</Typography.Paragraph>
      {policies.error ? <ErrorAlert error={policies.error} onRetry={() => policies.refetch()} /> : null}
      {policies.isLoading ? <Spin /> : null}
      {policies.data?.length === 0 ? (
        <EmptyState title={t('limits.empty')} hint={canWrite ? t('limits.empty_hint') : undefined} />
      ) : null}
      <Space direction="vertical" style={{ width: '100%' }}>
        {policies.data?.map((p) => (
          <Card
            key={p.id}
            size="small"
            title={
              <Space>
                {p.model ? <Tag color="blue">{p.model}</Tag> : <Tag>{t('limits.all_models')}</Tag>}
                {p.description}
              </Space>
            }
            extra={
              canWrite ? (
                <Space size={0}>
                  <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setEditing(p)} />
                  <Popconfirm
                    title={t('limits.delete_title')}
                    okButtonProps={{ danger: true }}
                    onConfirm={() => remove.mutateAsync(p.id)}
                  >
                    <Button type="link" size="small" danger icon={<DeleteOutlined />} />
                  </Popconfirm>
                </Space>
              ) : null
            }
          >
            <Descriptions
              size="small"
              column={2}
              items={[
                ...COUNTS.filter((k) => p[k] !== null).map((k) => ({
                  key: k,
                  label: t(`limits.field.${k}`),
                  children: formatCompact(p[k]),
                })),
                ...(p.budget !== null
                  ? [
                      {
                        key: 'budget',
                        label: t('limits.field.budget'),
                        children: `${formatNumber(p.budget, 2)} / ${t(`limits.period.${p.budget_period ?? 'month'}`)}`,
                      },
                    ]
                  : []),
                ...(p.soft_threshold !== null
                  ? [
                      {
                        key: 'soft',
                        label: t('limits.field.soft_threshold'),
                        children: `${Math.round(p.soft_threshold * 100)}%`,
                      },
                    ]
                  : []),
              ]}
            />
            <PolicyUsage id={p.id} />
          </Card>
        ))}
      </Space>
      <ModalForm<FormValues>
        title={current ? t('limits.edit') : t('limits.add')}
        open={editing !== null}
        onOpenChange={(open) => !open && setEditing(null)}
        modalProps={{ destroyOnHidden: true }}
        initialValues={
          current
            ? { ...current, soft_threshold_pct: current.soft_threshold ? current.soft_threshold * 100 : null }
            : { quota_period: 'month', budget_period: 'month' }
        }
        onFinish={(values) => succeeded(save.mutateAsync({ id: current?.id, values }))}
      >
        <ProFormSelect
          name="model"
          label={t('limits.model')}
          disabled={current !== null}
          placeholder={t('limits.all_models')}
          allowClear
          options={(models.data ?? []).map((m) => ({ value: m.name, label: m.name }))}
          extra={t('limits.model_hint')}
        />
        <ProFormGroup title={t('limits.rates')}>
          {(['rpm', 'rpd', 'tpm', 'tpd', 'max_concurrent'] as const).map((k) => (
            <ProFormDigit
              key={k}
              name={k}
              label={t(`limits.field.${k}`)}
              min={0}
              width="sm"
              fieldProps={{ precision: 0 }}
            />
          ))}
        </ProFormGroup>
        <ProFormGroup title={t('limits.quotas')}>
          <ProFormDigit
            name="token_quota"
            label={t('limits.field.token_quota')}
            min={0}
            width="sm"
            fieldProps={{ precision: 0 }}
          />
          <ProFormSelect name="quota_period" label={t('limits.period')} options={periodOptions} width="xs" />
          <ProFormDigit
            name="budget"
            label={t('limits.field.budget')}
            min={0}
            width="sm"
            fieldProps={{ precision: 2 }}
          />
          <ProFormSelect name="budget_period" label={t('limits.period')} options={periodOptions} width="xs" />
        </ProFormGroup>
        <ProFormDependency name={['token_quota', 'budget']}>
          {({ token_quota, budget }) =>
            token_quota || budget ? (
              <ProFormGroup title={t('limits.alerts')}>
                <ProFormDigit
                  name="soft_threshold_pct"
                  label={t('limits.field.soft_threshold')}
                  min={1}
                  max={100}
                  width="xs"
                  fieldProps={{ precision: 0, addonAfter: '%' }}
                />
                <ProFormText
                  name="webhook_url"
                  label={t('limits.field.webhook_url')}
                  width="md"
                  rules={[{ type: 'url', message: t('form.url') }]}
                />
              </ProFormGroup>
            ) : null
          }
        </ProFormDependency>
        <ProFormText name="description" label={t('common.description')} fieldProps={{ maxLength: 500 }} />
      </ModalForm>
    </Drawer>
  );
}
