import { useQuery } from '@tanstack/react-query';
import { Alert, Descriptions, Form, Input, InputNumber, Modal, Select, Space, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { ApiError } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import { formatBytes } from '../../lib/gateway-files.ts';
import { type Deployment, type DeploymentInput, fleetApi, RUNTIMES } from '../fleet/fleet-api.ts';

interface Values {
  model: string;
  runtime: DeploymentInput['runtime'];
  source: string;
  replicas: number;
  gpus?: number;
  context_length?: number;
}

const toInput = (v: Partial<Values>): DeploymentInput | null =>
  v.model && v.runtime && v.source
    ? {
        model: v.model,
        runtime: v.runtime,
        source: v.source,
        replicas: v.replicas ?? 1,
        ...(v.gpus !== undefined && v.gpus !== null ? { resources: { gpus: v.gpus } } : {}),
        ...(v.context_length ? { context_length: v.context_length } : {}),
      }
    : null;

/** The input, debounced: the scheduler is asked again once typing pauses. */
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setV(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return v;
}

/** What the scheduler would do with the form now: placements, memory estimate, or why it cannot. */
function LiveEvaluation({ input }: { input: DeploymentInput | null }) {
  const t = useT();
  const errorText = useErrorText();
  const debounced = useDebounced(input, 400);
  const ev = useQuery({
    queryKey: ['deployment-evaluate', debounced],
    queryFn: () => fleetApi.evaluate(debounced!),
    enabled: debounced !== null,
    retry: false,
  });
  if (!debounced) return <Typography.Text type="secondary">{t('dep.eval_fill')}</Typography.Text>;
  if (ev.error)
    return (
      <Alert
        type="error"
        showIcon
        data-testid="dep-eval-error"
        message={ev.error instanceof ApiError ? errorText(ev.error) : String(ev.error)}
      />
    );
  const r = ev.data;
  if (!r) return <Typography.Text type="secondary">{t('dep.eval_running')}</Typography.Text>;
  return (
    <div data-testid="dep-eval">
      <Alert
        type={r.fits ? 'success' : 'warning'}
        showIcon
        data-testid={r.fits ? 'dep-eval-fits' : 'dep-eval-pending'}
        message={
          r.fits
            ? t('dep.eval_fits', { n: r.replicas })
            : t('dep.eval_pending', { placed: r.placements.length, n: r.replicas })
        }
        description={r.reason ?? undefined}
        style={{ marginBottom: 8 }}
      />
      <Descriptions size="small" column={1}>
        <Descriptions.Item label={t('dep.memory_per_replica')}>
          {r.memory_per_replica === null ? '—' : formatBytes(r.memory_per_replica)}
          {r.estimate
            ? ` (${r.estimate.method}${r.estimate.architecture ? `, ${r.estimate.architecture}` : ''})`
            : ''}
        </Descriptions.Item>
        <Descriptions.Item label={t('dep.placements')}>
          <Space wrap size={4}>
            {r.placements.length === 0
              ? '—'
              : r.placements.map((p) => (
                  <Tag key={`${p.node_id}:${p.port}`}>
                    {p.node_name}
                    {p.gpu_indexes.length ? ` · GPU ${p.gpu_indexes.join(',')}` : ''} :{p.port}
                  </Tag>
                ))}
          </Space>
        </Descriptions.Item>
        {r.funnel.length ? (
          <Descriptions.Item label={t('dep.funnel')}>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {r.funnel.map((f) => `${f.stage} ${f.nodes}`).join(' → ')}
            </Typography.Text>
          </Descriptions.Item>
        ) : null}
      </Descriptions>
    </div>
  );
}

/** Create a deployment, with the scheduler's live dry run under the form. */
export function CreateDeploymentModal({
  open,
  initial,
  onClose,
  onCreated,
}: {
  open: boolean;
  initial?: Partial<Values>;
  onClose(): void;
  onCreated(d: Deployment): void;
}) {
  const t = useT();
  const [form] = Form.useForm<Values>();
  const values = Form.useWatch([], form) as Partial<Values> | undefined;
  useEffect(() => {
    if (open) form.setFieldsValue({ runtime: 'llama-cpp', replicas: 1, ...initial });
  }, [open, initial, form]);
  const create = useApiMutation(fleetApi.createDeployment, {
    invalidate: ['deployments', 'replicas'],
    success: (d) => t('dep.created', { name: d.name }),
    onSuccess: (d) => {
      form.resetFields();
      onCreated(d);
    },
  });
  return (
    <Modal
      open={open}
      width={720}
      title={t('dep.create_title')}
      onCancel={onClose}
      okText={t('dep.deploy')}
      okButtonProps={{ loading: create.isPending, 'data-testid': 'dep-create-submit' }}
      onOk={() => form.submit()}
      destroyOnHidden
    >
      <Form<Values>
        form={form}
        layout="vertical"
        onFinish={(v) => {
          const input = toInput(v);
          if (input) create.mutate(input);
        }}
      >
        <Form.Item
          name="model"
          label={t('dep.model')}
          extra={t('dep.model_hint')}
          rules={[{ required: true, message: t('form.required') }]}
        >
          <Input placeholder="llama-3.1-8b" data-testid="dep-model" />
        </Form.Item>
        <Space.Compact block>
          <Form.Item name="runtime" label={t('dep.runtime')} style={{ width: 200 }}>
            <Select options={RUNTIMES.map((r) => ({ value: r, label: r }))} data-testid="dep-runtime" />
          </Form.Item>
          <Form.Item
            name="source"
            label={t('dep.source')}
            extra={t('dep.source_hint')}
            style={{ flex: 1 }}
            rules={[{ required: true, message: t('form.required') }]}
          >
            <Input placeholder="hf://org/repo/model.Q4_K_M.gguf" data-testid="dep-source" />
          </Form.Item>
        </Space.Compact>
        <Space size={16}>
          <Form.Item name="replicas" label={t('dep.replicas')}>
            <InputNumber min={0} max={1000} data-testid="dep-replicas" />
          </Form.Item>
          <Form.Item name="gpus" label={t('dep.gpus')} tooltip={t('dep.gpus_hint')}>
            <InputNumber min={0} max={16} placeholder="auto" />
          </Form.Item>
          <Form.Item name="context_length" label={t('dep.context_length')}>
            <InputNumber min={128} max={10_000_000} placeholder="auto" />
          </Form.Item>
        </Space>
      </Form>
      <Typography.Title level={5} style={{ marginTop: 0 }}>
        {t('dep.eval_title')}
      </Typography.Title>
      <LiveEvaluation input={toInput(values ?? {})} />
    </Modal>
  );
}
