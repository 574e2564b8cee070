import { ModalForm, ProFormDigit, ProFormList, ProFormSelect, ProFormText } from '@ant-design/pro-components';
import { api } from '../../api/client.ts';
import { succeeded, useApiMutation } from '../../api/mutation.ts';
import { PROVIDER_TYPES, type Provider, type ProviderType } from '../../api/types.ts';
import { useT } from '../../i18n/index.tsx';

interface Values {
  name: string;
  type: ProviderType;
  base_url: string;
  api_key?: string;
  headers?: { name: string; value: string }[];
  timeout_ms?: number;
  max_connections?: number;
}

export function ProviderForm({
  open,
  editing,
  onClose,
  onSaved,
}: {
  open: boolean;
  editing: Provider | null;
  onClose(): void;
  onSaved(provider: Provider, created: boolean): void;
}) {
  const t = useT();
  const save = useApiMutation(
    (v: Values) => {
      const headers = v.headers?.length
        ? Object.fromEntries(v.headers.filter((h) => h.name).map((h) => [h.name, h.value ?? '']))
        : undefined;
      const body = {
        name: v.name,
        type: v.type,
        base_url: v.base_url.trim(),
        ...(v.api_key ? { api_key: v.api_key } : {}),
        ...(headers ? { headers } : {}),
        ...(v.timeout_ms ? { timeout_ms: v.timeout_ms } : {}),
        ...(v.max_connections ? { max_connections: v.max_connections } : {}),
      };
      return editing
        ? api.patch<Provider>(`/api/v1/providers/${editing.id}`, body)
        : api.post<Provider>('/api/v1/providers', body);
    },
    {
      success: editing ? t('common.saved') : t('providers.created'),
      invalidate: ['providers'],
      onSuccess: (p) => onSaved(p, !editing),
    },
  );
  return (
    <ModalForm<Values>
      title={editing ? t('providers.edit', { name: editing.name }) : t('providers.new')}
      open={open}
      onOpenChange={(o) => !o && onClose()}
      width={600}
      modalProps={{ destroyOnHidden: true }}
      initialValues={
        editing ? { ...editing } : { type: 'openai-compatible', timeout_ms: 60_000, max_connections: 100 }
      }
      onFinish={(v) => succeeded(save.mutateAsync(v))}
    >
      <ProFormText
        name="name"
        label={t('common.name')}
        placeholder="vllm-gpu-1"
        rules={[{ required: true, whitespace: true, message: t('form.required') }]}
      />
      <ProFormSelect
        name="type"
        label={t('providers.type')}
        options={PROVIDER_TYPES.map((p) => ({ value: p, label: t(`providers.type.${p}`) }))}
        rules={[{ required: true }]}
        extra={t('providers.type_hint')}
      />
      <ProFormText
        name="base_url"
        label={t('providers.base_url')}
        placeholder="http://gpu-1:8000/v1"
        extra={t('providers.base_url_hint')}
        rules={[
          { required: true, message: t('form.required') },
          { pattern: /^https?:\/\/\S+$/, message: t('form.url') },
        ]}
      />
      <ProFormText.Password
        name="api_key"
        label={t('providers.api_key')}
        placeholder={editing?.has_api_key ? t('providers.key_keep') : t('providers.key_optional')}
        extra={t('providers.api_key_hint')}
        fieldProps={{ autoComplete: 'new-password' }}
      />
      <ProFormList
        name="headers"
        label={t('providers.headers')}
        creatorButtonProps={{ creatorButtonText: t('providers.add_header') }}
        copyIconProps={false}
      >
        <div style={{ display: 'flex', gap: 8 }}>
          <ProFormText
            name="name"
            placeholder={t('providers.header_name')}
            rules={[
              { pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, message: t('providers.header_invalid') },
            ]}
          />
          <ProFormText.Password name="value" placeholder={t('providers.header_value')} />
        </div>
      </ProFormList>
      <div style={{ display: 'flex', gap: 16 }}>
        <ProFormDigit
          name="timeout_ms"
          label={t('providers.timeout_ms')}
          min={100}
          max={600_000}
          width="sm"
          fieldProps={{ precision: 0 }}
        />
        <ProFormDigit
          name="max_connections"
          label={t('providers.max_connections')}
          min={1}
          max={10_000}
          width="sm"
          fieldProps={{ precision: 0 }}
        />
      </div>
    </ModalForm>
  );
}
