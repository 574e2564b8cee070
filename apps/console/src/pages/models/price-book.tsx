import { PlusOutlined } from '@ant-design/icons';
import {
  ModalForm,
  ProFormDateTimePicker,
  ProFormDigit,
  ProFormSelect,
  ProFormText,
} from '@ant-design/pro-components';
import { useQuery } from '@tanstack/react-query';
import { Button, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { api, listAll } from '../../api/client.ts';
import { succeeded, useApiMutation } from '../../api/mutation.ts';
import { useOrgKey } from '../../api/queries.ts';
import type { Model } from '../../api/types.ts';
import { ErrorAlert, FeatureUnavailable, isMissingRoute } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatCost, formatDateTime } from '../../lib/format.ts';

interface Price {
  id: string;
  model_id: string;
  version_id: string | null;
  currency: string;
  input_per_million: number;
  cached_input_per_million: number;
  output_per_million: number;
  reasoning_per_million: number;
  effective_from: string;
  created_at: string;
}

interface Values {
  version_id?: string;
  currency: string;
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million?: number;
  effective_from?: Dayjs;
}

/** The model's price book: dated prices (per model or per version); requests keep the price of their time. */
export function PriceBook({ model, canWrite }: { model: Model; canWrite: boolean }) {
  const t = useT();
  const [adding, setAdding] = useState(false);
  const prices = useQuery({
    queryKey: useOrgKey('prices', model.id),
    queryFn: () => listAll<Price>('/api/v1/prices', { model_id: model.id }),
  });
  const add = useApiMutation(
    (v: Values) =>
      api.post('/api/v1/prices', {
        model_id: model.id,
        version_id: v.version_id ?? null,
        currency: v.currency.toUpperCase(),
        input_per_million: v.input_per_million,
        output_per_million: v.output_per_million,
        ...(v.cached_input_per_million !== undefined && v.cached_input_per_million !== null
          ? { cached_input_per_million: v.cached_input_per_million }
          : {}),
        ...(v.effective_from ? { effective_from: v.effective_from.toISOString() } : {}),
      }),
    { success: t('models.price_added'), invalidate: ['prices'] },
  );
  const remove = useApiMutation((id: string) => api.del(`/api/v1/prices/${id}`), {
    success: t('models.price_removed'),
    invalidate: ['prices'],
  });
  const versionLabel = (id: string | null) =>
    id ? `v${model.versions.find((v) => v.id === id)?.version ?? id}` : t('models.all_versions');
  if (isMissingRoute(prices.error)) return <FeatureUnavailable feature={t('models.price_book')} />;
  const now = Date.now();
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Text type="secondary">{t('models.price_book_hint')}</Typography.Text>
        {canWrite ? (
          <Button icon={<PlusOutlined />} onClick={() => setAdding(true)}>
            {t('models.add_price')}
          </Button>
        ) : null}
      </Space>
      {prices.error ? <ErrorAlert error={prices.error} onRetry={() => prices.refetch()} /> : null}
      <Table<Price>
        size="small"
        rowKey="id"
        loading={prices.isLoading}
        dataSource={prices.data}
        pagination={{ pageSize: 8, hideOnSinglePage: true }}
        locale={{ emptyText: t('models.price_book_empty') }}
        columns={[
          {
            title: t('models.version'),
            dataIndex: 'version_id',
            render: (v: string | null) => versionLabel(v),
          },
          {
            title: t('models.input_price'),
            dataIndex: 'input_per_million',
            render: (v: number, p) => formatCost(v, p.currency),
          },
          {
            title: t('models.output_price'),
            dataIndex: 'output_per_million',
            render: (v: number, p) => formatCost(v, p.currency),
          },
          {
            title: t('models.cached_price'),
            dataIndex: 'cached_input_per_million',
            render: (v: number, p) => formatCost(v, p.currency),
          },
          {
            title: t('models.effective_from'),
            dataIndex: 'effective_from',
            render: (v: string) => (
              <Space size={4}>
                {formatDateTime(v)}
                {new Date(v).getTime() > now ? <Tag color="blue">{t('models.scheduled')}</Tag> : null}
              </Space>
            ),
          },
          {
            title: '',
            key: 'x',
            render: (_, p) =>
              canWrite && new Date(p.effective_from).getTime() > now ? (
                <Popconfirm title={t('models.price_remove_title')} onConfirm={() => remove.mutateAsync(p.id)}>
                  <Button type="link" size="small" danger>
                    {t('action.remove')}
                  </Button>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
      <ModalForm<Values>
        title={t('models.add_price')}
        open={adding}
        onOpenChange={setAdding}
        modalProps={{ destroyOnHidden: true }}
        initialValues={{ currency: 'USD' }}
        onFinish={(v) => succeeded(add.mutateAsync(v))}
      >
        <ProFormSelect
          name="version_id"
          label={t('models.version')}
          placeholder={t('models.all_versions')}
          allowClear
          options={model.versions.map((v) => ({ value: v.id, label: `v${v.version}` }))}
        />
        <ProFormText
          name="currency"
          label={t('models.currency')}
          width="xs"
          rules={[{ required: true }, { pattern: /^[A-Za-z]{3}$/, message: t('models.currency_invalid') }]}
        />
        <Space>
          <ProFormDigit
            name="input_per_million"
            label={t('models.input_price')}
            width="sm"
            min={0}
            rules={[{ required: true, message: t('form.required') }]}
            fieldProps={{ precision: 4 }}
          />
          <ProFormDigit
            name="output_per_million"
            label={t('models.output_price')}
            width="sm"
            min={0}
            rules={[{ required: true, message: t('form.required') }]}
            fieldProps={{ precision: 4 }}
          />
          <ProFormDigit
            name="cached_input_per_million"
            label={t('models.cached_price')}
            width="sm"
            min={0}
            fieldProps={{ precision: 4 }}
          />
        </Space>
        <ProFormDateTimePicker
          name="effective_from"
          label={t('models.effective_from')}
          extra={t('models.effective_from_hint')}
        />
      </ModalForm>
    </Space>
  );
}
