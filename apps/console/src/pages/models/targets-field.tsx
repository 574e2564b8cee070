import {
  ProFormDigit,
  ProFormGroup,
  ProFormList,
  ProFormSelect,
  ProFormText,
} from '@ant-design/pro-components';
import { useProviders } from '../../api/queries.ts';
import type { ModelTarget, Pricing } from '../../api/types.ts';
import { useT } from '../../i18n/index.tsx';

export type TargetValues = Partial<ModelTarget>[];

export const cleanTargets = (targets: TargetValues | undefined) =>
  (targets ?? []).map((x) => ({
    provider_id: x.provider_id!,
    upstream_model: x.upstream_model!.trim(),
    ...(x.weight !== undefined && x.weight !== null ? { weight: x.weight } : {}),
    ...(x.priority !== undefined && x.priority !== null ? { priority: x.priority } : {}),
  }));

/** The upstream targets of a model version: provider, upstream model name, weight and priority tier. */
export function TargetsField({ min = 1 }: { min?: number }) {
  const t = useT();
  const providers = useProviders();
  return (
    <ProFormList
      name="targets"
      label={t('models.targets')}
      min={min}
      tooltip={t('models.targets_hint')}
      creatorButtonProps={{ creatorButtonText: t('models.add_target') }}
      copyIconProps={false}
      creatorRecord={{ weight: 1, priority: 0 }}
      rules={[
        {
          validator: async (_, v: unknown[]) =>
            (v?.length ?? 0) >= min ? undefined : Promise.reject(new Error(t('models.target_required'))),
        },
      ]}
    >
      <ProFormGroup>
        <ProFormSelect
          name="provider_id"
          placeholder={t('models.provider')}
          width="sm"
          options={(providers.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
          rules={[{ required: true, message: t('models.provider_required') }]}
          fieldProps={{ loading: providers.isLoading, notFoundContent: t('models.no_providers') }}
        />
        <ProFormText
          name="upstream_model"
          placeholder={t('models.upstream_model')}
          width="sm"
          rules={[{ required: true, message: t('form.required') }]}
        />
        <ProFormDigit
          name="weight"
          placeholder={t('models.weight')}
          width={90}
          min={0}
          max={10_000}
          fieldProps={{ precision: 0, addonBefore: 'W' }}
        />
        <ProFormDigit
          name="priority"
          placeholder={t('models.priority')}
          width={90}
          min={0}
          max={100}
          fieldProps={{ precision: 0, addonBefore: 'P' }}
        />
      </ProFormGroup>
    </ProFormList>
  );
}

export interface PricingValues {
  currency?: string;
  input_per_million?: number;
  output_per_million?: number;
}

export const pricingOf = (v: PricingValues): Pricing | undefined =>
  v.input_per_million !== undefined &&
  v.input_per_million !== null &&
  v.output_per_million !== undefined &&
  v.output_per_million !== null
    ? {
        currency: (v.currency || 'USD').toUpperCase(),
        input_per_million: v.input_per_million,
        output_per_million: v.output_per_million,
      }
    : undefined;

export function PricingFields() {
  const t = useT();
  return (
    <ProFormGroup title={t('models.pricing')} tooltip={t('models.pricing_hint')}>
      <ProFormText
        name="currency"
        label={t('models.currency')}
        width={90}
        placeholder="USD"
        rules={[{ pattern: /^[A-Za-z]{3}$/, message: t('models.currency_invalid') }]}
      />
      <ProFormDigit
        name="input_per_million"
        label={t('models.input_price')}
        width="sm"
        min={0}
        fieldProps={{ precision: 4 }}
      />
      <ProFormDigit
        name="output_per_million"
        label={t('models.output_price')}
        width="sm"
        min={0}
        fieldProps={{ precision: 4 }}
      />
    </ProFormGroup>
  );
}
