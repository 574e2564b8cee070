import { Card, Form, Input, InputNumber, Select, Slider, Switch } from 'antd';
import { useT } from '../../i18n/index.tsx';

export interface Params {
  system: string;
  temperature: number;
  top_p: number;
  max_tokens: number | null;
  stream: boolean;
}

/** The model and the request parameters of the playground. */
export function SettingsPanel({
  models,
  modelsLoading,
  model,
  onModel,
  params,
  onParams: setParams,
}: {
  models: string[] | undefined;
  modelsLoading: boolean;
  model: string | undefined;
  onModel(model: string): void;
  params: Params;
  onParams(params: Params): void;
}) {
  const t = useT();
  return (
    <Card title={t('playground.settings')} size="small">
      <Form layout="vertical" size="middle">
        <Form.Item label={t('playground.model')}>
          <Select
            value={model}
            onChange={onModel}
            loading={modelsLoading}
            showSearch
            data-testid="playground-model"
            placeholder={t('playground.model_placeholder')}
            options={(models ?? []).map((m) => ({ value: m, label: m }))}
            notFoundContent={t('playground.no_models')}
          />
        </Form.Item>
        <Form.Item label={t('playground.system')}>
          <Input.TextArea
            rows={3}
            value={params.system}
            placeholder={t('playground.system_placeholder')}
            onChange={(e) => setParams({ ...params, system: e.target.value })}
          />
        </Form.Item>
        <Form.Item label={`${t('playground.temperature')}: ${params.temperature}`}>
          <Slider
            min={0}
            max={2}
            step={0.1}
            value={params.temperature}
            onChange={(v) => setParams({ ...params, temperature: v })}
          />
        </Form.Item>
        <Form.Item label={`Top P: ${params.top_p}`}>
          <Slider
            min={0}
            max={1}
            step={0.05}
            value={params.top_p}
            onChange={(v) => setParams({ ...params, top_p: v })}
          />
        </Form.Item>
        <Form.Item label={t('playground.max_tokens')}>
          <InputNumber
            min={1}
            max={1_000_000}
            style={{ width: '100%' }}
            value={params.max_tokens}
            onChange={(v) => setParams({ ...params, max_tokens: v })}
          />
        </Form.Item>
        <Form.Item label={t('playground.stream')} style={{ marginBottom: 0 }}>
          <Switch checked={params.stream} onChange={(v) => setParams({ ...params, stream: v })} />
        </Form.Item>
      </Form>
    </Card>
  );
}
