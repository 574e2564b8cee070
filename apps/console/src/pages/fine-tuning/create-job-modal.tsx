import { UploadOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Descriptions,
  Form,
  Input,
  InputNumber,
  Modal,
  Radio,
  Select,
  Space,
  Steps,
} from 'antd';
import { useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import { formatCost, formatNumber } from '../../lib/format.ts';
import { formatBytes, listFiles } from '../../lib/gateway-files.ts';
import {
  createJob,
  type Estimate,
  estimateJob,
  type FineTuningJob,
  type Hyperparameters,
  type JobInput,
  listModels,
  type Method,
} from '../../lib/gateway-fine-tuning.ts';
import { UploadModal } from '../files/upload-modal.tsx';

const HP_FIELDS = [
  'n_epochs',
  'batch_size',
  'learning_rate_multiplier',
  'lora_rank',
  'lora_alpha',
  'beta',
] as const;
type HpField = (typeof HP_FIELDS)[number];

interface Values extends Partial<Record<HpField, number | null>> {
  training_file: string;
  model: string;
  method: Method;
  suffix?: string;
}

function toInput(v: Values): JobInput {
  const hp: Hyperparameters = {};
  for (const f of HP_FIELDS) {
    if (f === 'beta' && v.method !== 'dpo') continue;
    const n = v[f];
    if (typeof n === 'number') hp[f] = n;
  }
  return {
    model: v.model,
    training_file: v.training_file,
    ...(v.suffix?.trim() ? { suffix: v.suffix.trim() } : {}),
    method: { type: v.method, [v.method]: { hyperparameters: hp } },
  };
}

/** The job wizard: dataset, base model and method, hyperparameters, and the server's estimate before it starts. */
export function CreateJobModal({
  apiKey,
  open,
  onClose,
  onCreated,
}: {
  apiKey: string;
  open: boolean;
  onClose(): void;
  onCreated(job: FineTuningJob): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const [form] = Form.useForm<Values>();
  const [step, setStep] = useState(0);
  const [uploading, setUploading] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const method = Form.useWatch('method', form) ?? 'supervised';
  const files = useQuery({
    queryKey: ['gateway-files', apiKey],
    queryFn: () => listFiles(apiKey),
    enabled: open,
    retry: false,
  });
  const models = useQuery({
    queryKey: ['gateway-models', apiKey],
    queryFn: () => listModels(apiKey),
    enabled: open,
    retry: false,
  });
  const datasets = (files.data ?? []).filter((f) => f.purpose === 'fine-tune');
  const bases = (models.data ?? []).filter((m) => !m.startsWith('ft:'));
  const fieldsOf = [['training_file'], ['model', 'method', 'suffix'], [...HP_FIELDS]] as const;

  const close = () => {
    setStep(0);
    setEstimate(null);
    setError(null);
    form.resetFields();
    onClose();
  };

  const next = async () => {
    setError(null);
    try {
      await form.validateFields([...fieldsOf[step]!]);
    } catch {
      return;
    }
    if (step < 2) return setStep(step + 1);
    setBusy(true);
    try {
      const { suffix: _s, ...input } = toInput(form.getFieldsValue(true) as Values);
      setEstimate(await estimateJob(apiKey, input));
      setStep(3);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const job = await createJob(apiKey, toInput(form.getFieldsValue(true) as Values));
      close();
      onCreated(job);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const hide = (n: number) => ({ display: step === n ? undefined : 'none' });
  return (
    <Modal
      open={open}
      width={720}
      title={t('ft.new')}
      onCancel={close}
      destroyOnHidden
      footer={
        <Space>
          {step > 0 ? (
            <Button onClick={() => setStep(step - 1)} data-testid="ft-wizard-back">
              {t('ft.back')}
            </Button>
          ) : null}
          {step < 3 ? (
            <Button type="primary" loading={busy} onClick={next} data-testid="ft-wizard-next">
              {t('ft.next')}
            </Button>
          ) : (
            <Button type="primary" loading={busy} onClick={submit} data-testid="ft-wizard-submit">
              {t('ft.create')}
            </Button>
          )}
        </Space>
      }
    >
      <Steps
        size="small"
        current={step}
        style={{ marginBottom: 24 }}
        items={[
          { title: t('ft.step_dataset') },
          { title: t('ft.step_model') },
          { title: t('ft.step_hyperparameters') },
          { title: t('ft.step_review') },
        ]}
      />
      <Form form={form} layout="vertical" initialValues={{ method: 'supervised' }}>
        <div style={hide(0)}>
          <Form.Item label={t('ft.training_file')} extra={t('ft.training_file_hint')} required>
            <Space.Compact style={{ width: '100%' }}>
              <Form.Item
                name="training_file"
                noStyle
                rules={[{ required: true, message: t('ft.pick_file') }]}
              >
                <Select
                  placeholder={t('ft.pick_file')}
                  loading={files.isLoading}
                  data-testid="ft-training-file"
                  options={datasets.map((f) => ({
                    value: f.id,
                    label: `${f.filename} · ${formatBytes(f.bytes)} · ${f.id}`,
                  }))}
                />
              </Form.Item>
              <Button icon={<UploadOutlined />} onClick={() => setUploading(true)} data-testid="ft-upload">
                {t('files.upload')}
              </Button>
            </Space.Compact>
          </Form.Item>
        </div>
        <div style={hide(1)}>
          <Form.Item
            name="model"
            label={t('ft.base_model')}
            extra={t('ft.base_model_hint')}
            rules={[{ required: true, message: t('ft.pick_model') }]}
          >
            <Select
              placeholder={t('ft.pick_model')}
              loading={models.isLoading}
              data-testid="ft-base-model"
              options={bases.map((m) => ({ value: m, label: m }))}
            />
          </Form.Item>
          <Form.Item name="method" label={t('ft.method')}>
            <Radio.Group data-testid="ft-method">
              <Radio.Button value="supervised">{t('ft.method.supervised')}</Radio.Button>
              <Radio.Button value="dpo">{t('ft.method.dpo')}</Radio.Button>
            </Radio.Group>
          </Form.Item>
          <Form.Item
            name="suffix"
            label={t('ft.suffix')}
            extra={t('ft.suffix_hint')}
            rules={[{ pattern: /^[A-Za-z0-9-]{1,64}$/, message: t('ft.suffix_hint') }]}
          >
            <Input maxLength={64} data-testid="ft-suffix" />
          </Form.Item>
        </div>
        <div style={hide(2)}>
          <Alert type="info" showIcon message={t('ft.hp_hint')} style={{ marginBottom: 16 }} />
          <Space wrap size="large">
            {HP_FIELDS.filter((f) => f !== 'beta' || method === 'dpo').map((f) => (
              <Form.Item key={f} name={f} label={t(`ft.hp.${f}`)}>
                <InputNumber
                  placeholder={t('ft.auto')}
                  min={f === 'learning_rate_multiplier' ? 0.0001 : f === 'beta' ? 0.001 : 1}
                  step={f === 'learning_rate_multiplier' || f === 'beta' ? 0.1 : 1}
                  style={{ width: 150 }}
                  data-testid={`ft-hp-${f}`}
                />
              </Form.Item>
            ))}
          </Space>
        </div>
      </Form>
      {step === 3 && estimate ? (
        <Descriptions bordered size="small" column={2} data-testid="ft-estimate">
          <Descriptions.Item label={t('ft.examples')}>
            {formatNumber(estimate.training_examples)}
          </Descriptions.Item>
          <Descriptions.Item label={t('ft.tokens')}>
            {formatNumber(estimate.training_tokens)}
          </Descriptions.Item>
          <Descriptions.Item label={t('ft.est_steps')}>
            <span data-testid="ft-estimate-steps">{formatNumber(estimate.steps)}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('ft.est_trained_tokens')}>
            {formatNumber(estimate.trained_tokens)}
          </Descriptions.Item>
          <Descriptions.Item label={t('ft.est_time')}>
            {t('ft.seconds', { n: estimate.seconds })}
          </Descriptions.Item>
          <Descriptions.Item label={t('ft.est_cost')}>
            {formatCost(estimate.cost.nanos / 1e9, estimate.cost.currency)}
          </Descriptions.Item>
          {Object.entries(estimate.hyperparameters).map(([k, v]) => (
            <Descriptions.Item key={k} label={t(`ft.hp.${k}` as `ft.hp.${HpField}`)}>
              {v}
            </Descriptions.Item>
          ))}
        </Descriptions>
      ) : null}
      {error ? (
        <Alert type="error" showIcon message={error} data-testid="ft-error" style={{ marginTop: 16 }} />
      ) : null}
      <UploadModal
        apiKey={apiKey}
        open={uploading}
        defaultPurpose="fine-tune"
        onClose={() => setUploading(false)}
        onUploaded={async (f) => {
          setUploading(false);
          await files.refetch();
          form.setFieldValue('training_file', f.id);
        }}
      />
    </Modal>
  );
}
