import { ModalForm, ProFormDigit, ProFormText } from '@ant-design/pro-components';
import { api } from '../../api/client.ts';
import { succeeded, useApiMutation } from '../../api/mutation.ts';
import type { Model, ModelVersion } from '../../api/types.ts';
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
  version?: string;
  targets: TargetValues;
  traffic_weight?: number;
}

/** Adds a version (new targets, maybe new pricing), or edits one's targets and pricing. */
export function VersionForm({
  model,
  editing,
  open,
  onClose,
}: {
  model: Model;
  editing: ModelVersion | null;
  open: boolean;
  onClose(): void;
}) {
  const t = useT();
  const save = useApiMutation(
    (v: Values) => {
      const pricing = pricingOf(v) ?? null;
      return editing
        ? api.patch(`/api/v1/models/${model.id}/versions/${editing.version}`, {
            targets: cleanTargets(v.targets),
            pricing,
          })
        : api.post(`/api/v1/models/${model.id}/versions`, {
            ...(v.version ? { version: v.version } : {}),
            targets: cleanTargets(v.targets),
            ...(pricing ? { pricing } : {}),
            traffic_weight: v.traffic_weight ?? 0,
          });
    },
    { success: editing ? t('common.saved') : t('models.version_created'), invalidate: ['models'] },
  );
  const base = editing ?? model.versions[model.versions.length - 1];
  return (
    <ModalForm<Values>
      title={editing ? t('models.edit_version', { v: editing.version }) : t('models.new_version')}
      open={open}
      onOpenChange={(o) => !o && onClose()}
      width={720}
      modalProps={{ destroyOnHidden: true }}
      initialValues={{
        targets: base?.targets ?? [{ weight: 1, priority: 0 }],
        currency: base?.pricing?.currency ?? 'USD',
        input_per_million: base?.pricing?.input_per_million,
        output_per_million: base?.pricing?.output_per_million,
        traffic_weight: 0,
      }}
      onFinish={(v) => succeeded(save.mutateAsync(v).then(onClose))}
    >
      {editing ? null : (
        <div style={{ display: 'flex', gap: 16 }}>
          <ProFormText
            name="version"
            label={t('models.version_label')}
            width="sm"
            placeholder={t('models.version_auto')}
            rules={[{ pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/, message: t('models.version_invalid') }]}
          />
          <ProFormDigit
            name="traffic_weight"
            label={t('models.initial_weight')}
            width="sm"
            min={0}
            max={10_000}
            extra={t('models.initial_weight_hint')}
            fieldProps={{ precision: 0 }}
          />
        </div>
      )}
      <TargetsField min={editing ? 0 : 1} />
      <PricingFields />
    </ModalForm>
  );
}
