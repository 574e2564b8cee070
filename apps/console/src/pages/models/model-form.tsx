import {
  ModalForm,
  ProFormDigit,
  ProFormSelect,
  ProFormText,
  ProFormTextArea,
} from '@ant-design/pro-components';
import { Alert } from 'antd';
import { Link } from 'react-router';
import { api } from '../../api/client.ts';
import { succeeded, useApiMutation } from '../../api/mutation.ts';
import { useProviders } from '../../api/queries.ts';
import { MODEL_TYPES, type Model, type ModelType } from '../../api/types.ts';
import { useT } from '../../i18n/index.tsx';
import {
  cleanTargets,
  PricingFields,
  type PricingValues,
  pricingOf,
  TargetsField,
  type TargetValues,
} from './targets-field.tsx';

interface Values extends PricingValues {
  name: string;
  type: ModelType;
  aliases?: string[];
  description?: string;
  context_length?: number;
  targets: TargetValues;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

export function CreateModelModal({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose(): void;
  onCreated(m: Model): void;
}) {
  const t = useT();
  const providers = useProviders();
  const create = useApiMutation(
    (v: Values) =>
      api.post<Model>('/api/v1/models', {
        name: v.name.trim(),
        type: v.type,
        ...(v.aliases?.length ? { aliases: v.aliases } : {}),
        ...(v.description ? { description: v.description } : {}),
        ...(v.context_length ? { context_length: v.context_length } : {}),
        ...(pricingOf(v) ? { pricing: pricingOf(v) } : {}),
        targets: cleanTargets(v.targets),
      }),
    { success: t('models.created'), invalidate: ['models'], onSuccess: onCreated },
  );
  return (
    <ModalForm<Values>
      title={t('models.new')}
      open={open}
      onOpenChange={(o) => !o && onClose()}
      width={720}
      modalProps={{ destroyOnHidden: true }}
      initialValues={{ type: 'chat', currency: 'USD', targets: [{ weight: 1, priority: 0 }] }}
      onFinish={(v) => succeeded(create.mutateAsync(v))}
    >
      {providers.data?.length === 0 ? (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 16 }}
          message={t('models.need_provider')}
          description={<Link to="/providers">{t('models.need_provider_link')}</Link>}
        />
      ) : null}
      <div style={{ display: 'flex', gap: 16 }}>
        <ProFormText
          name="name"
          label={t('common.name')}
          width="md"
          placeholder="qwen2.5-72b-instruct"
          extra={t('models.name_hint')}
          rules={[
            { required: true, message: t('form.required') },
            { pattern: NAME, message: t('models.name_invalid') },
          ]}
        />
        <ProFormSelect
          name="type"
          label={t('models.type')}
          width="sm"
          options={MODEL_TYPES.map((m) => ({ value: m, label: t(`models.type.${m}`) }))}
          rules={[{ required: true }]}
        />
      </div>
      <ProFormSelect
        name="aliases"
        label={t('models.aliases')}
        mode="tags"
        placeholder={t('models.aliases_hint')}
        fieldProps={{ tokenSeparators: [',', ' '] }}
      />
      <ProFormTextArea
        name="description"
        label={t('common.description')}
        fieldProps={{ rows: 2, maxLength: 2000 }}
      />
      <ProFormDigit
        name="context_length"
        label={t('models.context_length')}
        width="sm"
        min={1}
        fieldProps={{ precision: 0 }}
      />
      <TargetsField />
      <PricingFields />
    </ModalForm>
  );
}
