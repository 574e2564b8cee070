import {
  ModalForm,
  ProFormCheckbox,
  ProFormDateTimePicker,
  ProFormSelect,
  ProFormText,
} from '@ant-design/pro-components';
import { Alert, Form, Modal, Select, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client.ts';
import { succeeded, useApiMutation } from '../../api/mutation.ts';
import { useModels, useProjects } from '../../api/queries.ts';
import { type ApiKey, type IssuedKey, KEY_SCOPES, type KeyScope } from '../../api/types.ts';
import { useT } from '../../i18n/index.tsx';

interface CreateValues {
  name: string;
  project_id: string;
  scopes: KeyScope[];
  models?: string[];
  expires_at?: Dayjs | string;
}

export function CreateKeyModal({
  open,
  onOpenChange,
  defaultProject,
  onIssued,
}: {
  open: boolean;
  onOpenChange(open: boolean): void;
  defaultProject?: string;
  onIssued(key: IssuedKey): void;
}) {
  const t = useT();
  const projects = useProjects();
  const models = useModels();
  const create = useApiMutation(
    (v: CreateValues) =>
      api.post<IssuedKey>('/api/v1/keys', {
        name: v.name,
        project_id: v.project_id,
        scopes: v.scopes,
        models: v.models && v.models.length > 0 ? v.models : undefined,
        expires_at: v.expires_at
          ? new Date(
              typeof v.expires_at === 'string' ? v.expires_at : v.expires_at.toISOString(),
            ).toISOString()
          : undefined,
      }),
    { invalidate: ['keys'], onSuccess: (key) => onIssued(key) },
  );
  const noProjects = projects.data !== undefined && projects.data.length === 0;
  return (
    <ModalForm<CreateValues>
      title={t('keys.new')}
      open={open}
      onOpenChange={onOpenChange}
      width={560}
      initialValues={{ scopes: ['inference'], project_id: defaultProject ?? projects.data?.[0]?.id }}
      modalProps={{ destroyOnHidden: true }}
      submitter={{
        searchConfig: { submitText: t('keys.create_submit') },
        submitButtonProps: { disabled: noProjects },
      }}
      onFinish={(v) => succeeded(create.mutateAsync(v))}
    >
      {noProjects ? (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 16 }}
          message={t('keys.need_project')}
          description={<Link to="/projects">{t('keys.need_project_link')}</Link>}
        />
      ) : null}
      <ProFormText
        name="name"
        label={t('common.name')}
        placeholder={t('keys.name_placeholder')}
        fieldProps={{ 'data-testid': 'key-name', maxLength: 200 } as object}
        rules={[{ required: true, whitespace: true, message: t('form.required') }]}
      />
      <ProFormSelect
        name="project_id"
        label={t('keys.project')}
        options={(projects.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
        fieldProps={{ loading: projects.isLoading }}
        rules={[{ required: true, message: t('form.required') }]}
      />
      <ProFormCheckbox.Group
        name="scopes"
        label={t('keys.scopes')}
        options={KEY_SCOPES.map((s) => ({ value: s, label: t(`scope.${s}`) }))}
        rules={[{ required: true, message: t('keys.scopes_required') }]}
      />
      <ProFormSelect
        name="models"
        label={t('keys.models')}
        extra={t('keys.models_hint')}
        mode="tags"
        options={(models.data ?? []).map((m) => ({ value: m.name, label: m.name }))}
        placeholder={t('keys.models_all')}
      />
      <ProFormDateTimePicker
        name="expires_at"
        label={t('keys.expires')}
        extra={t('keys.expires_hint')}
        fieldProps={{ disabledDate: (d: Dayjs) => d.isBefore(new Date(), 'day'), style: { width: '100%' } }}
      />
    </ModalForm>
  );
}

const GRACE_OPTIONS = [0, 3600, 86_400, 7 * 86_400];

export function RotateKeyModal({
  apiKey,
  onClose,
  onIssued,
}: {
  apiKey: ApiKey | null;
  onClose(): void;
  onIssued(key: IssuedKey): void;
}) {
  const t = useT();
  const [grace, setGrace] = useState(0);
  const rotate = useApiMutation(
    ({ id, grace_period_seconds }: { id: string; grace_period_seconds: number }) =>
      api.post<IssuedKey>(`/api/v1/keys/${id}/rotate`, { grace_period_seconds }),
    { invalidate: ['keys'], onSuccess: (key) => onIssued(key) },
  );
  return (
    <Modal
      open={apiKey !== null}
      title={t('keys.rotate_title', { name: apiKey?.name ?? '' })}
      okText={t('keys.rotate')}
      confirmLoading={rotate.isPending}
      onCancel={onClose}
      onOk={async () => {
        if (apiKey && (await succeeded(rotate.mutateAsync({ id: apiKey.id, grace_period_seconds: grace })))) {
          setGrace(0);
          onClose();
        }
      }}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary">{t('keys.rotate_hint')}</Typography.Paragraph>
      <Form layout="vertical">
        <Form.Item label={t('keys.grace')}>
          <Select
            value={grace}
            onChange={setGrace}
            options={GRACE_OPTIONS.map((s) => ({ value: s, label: t(`keys.grace_${s}` as 'keys.grace_0') }))}
          />
        </Form.Item>
      </Form>
    </Modal>
  );
}
