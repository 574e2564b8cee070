import { Form, Input, InputNumber, Modal, Slider, Switch, Typography } from 'antd';
import { useEffect } from 'react';
import { useApiMutation } from '../../api/mutation.ts';
import { useT } from '../../i18n/index.tsx';
import { type Deployment, type DeploymentUpdate, fleetApi } from '../fleet/fleet-api.ts';

export type ChangeKind = 'scale' | 'update';

interface Values {
  replicas: number;
  version?: string;
  source?: string;
  canary: boolean;
  canary_replicas: number;
  weight: number;
}

/** Scale a deployment, or roll out a new version: one replica at a time, or as a canary with its share of traffic. */
export function ChangeDeploymentModal({
  deployment,
  kind,
  onClose,
}: {
  deployment: Deployment | null;
  kind: ChangeKind;
  onClose(): void;
}) {
  const t = useT();
  const [form] = Form.useForm<Values>();
  const canary = Form.useWatch('canary', form);
  useEffect(() => {
    if (deployment)
      form.setFieldsValue({ replicas: deployment.replicas, canary: false, canary_replicas: 1, weight: 10 });
  }, [deployment, form]);
  const save = useApiMutation(
    ({ id, body }: { id: string; body: DeploymentUpdate }) => fleetApi.updateDeployment(id, body),
    { invalidate: ['deployments', 'replicas'], success: t('common.saved'), onSuccess: onClose },
  );
  if (!deployment) return null;
  const submit = (v: Values) => {
    const body: DeploymentUpdate =
      kind === 'scale'
        ? { replicas: v.replicas }
        : {
            ...(v.version ? { version: v.version } : {}),
            ...(v.source ? { source: v.source } : {}),
            ...(v.canary ? { canary: { replicas: v.canary_replicas, weight: v.weight } } : {}),
          };
    save.mutate({ id: deployment.id, body });
  };
  return (
    <Modal
      open
      title={t(kind === 'scale' ? 'dep.scale_title' : 'dep.update_title', { name: deployment.name })}
      onCancel={onClose}
      onOk={() => form.submit()}
      okButtonProps={{ loading: save.isPending, 'data-testid': 'dep-change-submit' }}
    >
      <Form<Values> form={form} layout="vertical" onFinish={submit}>
        {kind === 'scale' ? (
          <Form.Item name="replicas" label={t('dep.replicas')}>
            <InputNumber min={0} max={1000} data-testid="dep-scale-replicas" />
          </Form.Item>
        ) : (
          <>
            <Typography.Paragraph type="secondary">
              {t('dep.update_hint', { version: deployment.version })}
            </Typography.Paragraph>
            <Form.Item
              name="version"
              label={t('dep.version')}
              rules={[{ required: true, message: t('form.required') }]}
            >
              <Input placeholder="2" data-testid="dep-update-version" />
            </Form.Item>
            <Form.Item name="source" label={t('dep.source')} extra={t('dep.update_source_hint')}>
              <Input placeholder={deployment.source} />
            </Form.Item>
            <Form.Item
              name="canary"
              label={t('dep.canary')}
              valuePropName="checked"
              extra={t('dep.canary_hint')}
            >
              <Switch data-testid="dep-canary" />
            </Form.Item>
            {canary ? (
              <>
                <Form.Item name="canary_replicas" label={t('dep.canary_replicas')}>
                  <InputNumber min={1} max={1000} />
                </Form.Item>
                <Form.Item name="weight" label={t('dep.canary_weight')}>
                  <Slider
                    min={1}
                    max={99}
                    marks={{ 1: '1%', 10: '10%', 50: '50%', 99: '99%' }}
                    tooltip={{ formatter: (v) => `${v}%` }}
                    data-testid="dep-canary-weight"
                  />
                </Form.Item>
              </>
            ) : null}
          </>
        )}
      </Form>
    </Modal>
  );
}
