import { Alert, Button, Form, Input, InputNumber, Modal, Space, Typography } from 'antd';
import { useState } from 'react';
import { useApiMutation } from '../../api/mutation.ts';
import { CopyButton } from '../../components/copy-button.tsx';
import { useT } from '../../i18n/index.tsx';
import { fleetApi } from './fleet-api.ts';

/** The exact command a new node runs; the secret is shown once, here. */
export const agentCommand = (server: string, token: string) =>
  `maas agent --server ${server} --token ${token}`;

/** Create a join token, then show the `maas agent …` command that joins a node with it. */
export function JoinTokenModal({ open, onClose }: { open: boolean; onClose(): void }) {
  const t = useT();
  const [form] = Form.useForm<{ name: string; max_uses?: number }>();
  const [command, setCommand] = useState<string | null>(null);
  const create = useApiMutation(fleetApi.createJoinToken, {
    invalidate: ['join-tokens'],
    onSuccess: (res) => setCommand(agentCommand(window.location.origin, res.token)),
  });
  const close = () => {
    setCommand(null);
    form.resetFields();
    onClose();
  };
  return (
    <Modal
      open={open}
      title={t('fleet.join_title')}
      onCancel={close}
      destroyOnHidden
      footer={
        command ? (
          <Button type="primary" onClick={close} data-testid="fleet-join-done">
            {t('fleet.join_done')}
          </Button>
        ) : (
          <Button
            type="primary"
            loading={create.isPending}
            onClick={() => form.submit()}
            data-testid="fleet-join-create"
          >
            {t('fleet.join_create')}
          </Button>
        )
      }
    >
      {command ? (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Alert type="warning" showIcon message={t('fleet.join_once')} />
          <Typography.Text>{t('fleet.join_run')}</Typography.Text>
          <pre
            className="maas-mono"
            data-testid="fleet-join-command"
            style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: 0 }}
          >
            {command}
          </pre>
          <CopyButton text={command} data-testid="fleet-join-copy" />
        </Space>
      ) : (
        <Form
          form={form}
          layout="vertical"
          onFinish={(v) => create.mutate({ name: v.name, ...(v.max_uses ? { max_uses: v.max_uses } : {}) })}
        >
          <Form.Item
            name="name"
            label={t('common.name')}
            rules={[{ required: true, message: t('form.required') }]}
          >
            <Input placeholder="gpu-rack-1" data-testid="fleet-join-name" />
          </Form.Item>
          <Form.Item name="max_uses" label={t('fleet.join_max_uses')} extra={t('fleet.join_max_uses_hint')}>
            <InputNumber min={1} max={100000} style={{ width: '100%' }} />
          </Form.Item>
        </Form>
      )}
    </Modal>
  );
}
