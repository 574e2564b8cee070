import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Form, Input, InputNumber, Select, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { ApiError, api } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useOrgKey } from '../../api/queries.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';

interface MailSettings {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  username: string | null;
  has_password: boolean;
  from_address: string;
  public_url: string;
}

type MailForm = Omit<MailSettings, 'has_password'> & { password?: string };

/** The platform's SMTP settings, for platform admins: the password is write-only. */
export function MailSettingsCard() {
  const t = useT();
  const [form] = Form.useForm<MailForm>();
  const [testTo, setTestTo] = useState('');
  const current = useQuery({
    queryKey: useOrgKey('mail-settings'),
    queryFn: () =>
      api.get<MailSettings>('/api/v1/mail-settings').catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }),
  });
  useEffect(() => {
    if (current.data) form.setFieldsValue({ ...current.data, password: '' });
  }, [current.data, form]);
  const save = useApiMutation(
    ({ password, ...v }: MailForm) =>
      api.put<MailSettings>('/api/v1/mail-settings', {
        ...v,
        username: v.username || null,
        ...(password ? { password } : {}),
      }),
    { success: t('mail.saved'), invalidate: ['mail-settings'] },
  );
  const test = useApiMutation((to: string) => api.post('/api/v1/mail-settings/test', { to }), {
    success: t('mail.test_sent', { to: testTo }),
  });
  return (
    <Card title={t('mail.title')} style={{ marginTop: 16 }} data-testid="mail-settings-card">
      {current.error ? <ErrorAlert error={current.error} /> : null}
      <Typography.Paragraph type="secondary">{t('mail.hint')}</Typography.Paragraph>
      {current.data === null ? (
        <Alert type="info" showIcon message={t('mail.not_set')} style={{ marginBottom: 12 }} />
      ) : null}
      <Form<MailForm>
        form={form}
        layout="vertical"
        initialValues={{ security: 'starttls', port: 587 }}
        onFinish={(v) => save.mutate(v)}
        style={{ maxWidth: 560 }}
      >
        <Space wrap align="start">
          <Form.Item name="host" label={t('mail.host')} rules={[{ required: true }]}>
            <Input style={{ width: 240 }} data-testid="mail-host" />
          </Form.Item>
          <Form.Item name="port" label={t('mail.port')} rules={[{ required: true }]}>
            <InputNumber min={1} max={65535} data-testid="mail-port" />
          </Form.Item>
          <Form.Item name="security" label={t('mail.security')}>
            <Select
              style={{ width: 120 }}
              options={['tls', 'starttls', 'none'].map((v) => ({ value: v, label: v }))}
              data-testid="mail-security"
            />
          </Form.Item>
        </Space>
        <Space wrap align="start">
          <Form.Item name="username" label={t('mail.username')}>
            <Input style={{ width: 240 }} autoComplete="off" />
          </Form.Item>
          <Form.Item
            name="password"
            label={t('mail.password')}
            extra={current.data?.has_password ? t('mail.password_keep') : undefined}
          >
            <Input.Password style={{ width: 240 }} autoComplete="new-password" />
          </Form.Item>
        </Space>
        <Form.Item name="from_address" label={t('mail.from')} rules={[{ required: true }]}>
          <Input placeholder="maas <noreply@example.com>" data-testid="mail-from" />
        </Form.Item>
        <Form.Item name="public_url" label={t('mail.public_url')} rules={[{ required: true, type: 'url' }]}>
          <Input placeholder="https://maas.example.com" data-testid="mail-public-url" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="mail-save">
          {t('settings.save')}
        </Button>
      </Form>
      {current.data ? (
        <Space style={{ marginTop: 16 }}>
          <Input
            placeholder={t('mail.test_to')}
            value={testTo}
            onChange={(e) => setTestTo(e.target.value)}
            style={{ width: 240 }}
          />
          <Button onClick={() => test.mutate(testTo)} disabled={!testTo} loading={test.isPending}>
            {t('mail.test')}
          </Button>
        </Space>
      ) : null}
    </Card>
  );
}
