import { SafetyCertificateOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Descriptions, Form, Input, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api } from '../api/client.ts';
import { useApiMutation } from '../api/mutation.ts';
import { useOrgKey } from '../api/queries.ts';
import { useAuth } from '../auth/auth.tsx';
import { Page } from '../components/page.tsx';
import { ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { RecoveryCodes } from './login/mfa-step.tsx';
import { AccountCard } from './profile/account-card.tsx';
import { MyKeysCard } from './profile/my-keys-card.tsx';
import { PasskeysCard } from './profile/passkeys-card.tsx';

interface MfaStatus {
  enabled: boolean;
  totp: boolean;
  passkeys: number;
  enrolment_pending: boolean;
  recovery_codes_left: number;
  required: boolean;
}

/** The signed-in user's account and second factors (TOTP, passkeys, recovery codes). */
export default function ProfilePage() {
  const t = useT();
  const { role } = useAuth();
  const status = useQuery({
    queryKey: useOrgKey('mfa'),
    queryFn: () => api.get<MfaStatus>('/api/v1/me/mfa'),
  });
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauth_uri: string } | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [asking, setAsking] = useState<'disable' | 'codes' | null>(null);
  const start = useApiMutation(
    () => api.post<{ secret: string; otpauth_uri: string }>('/api/v1/me/mfa/totp'),
    {
      onSuccess: (out) => {
        setEnrolment(out);
        setCodes(null);
      },
    },
  );
  const confirm = useApiMutation(
    (code: string) => api.post<{ recovery_codes: string[] }>('/api/v1/me/mfa/totp/confirm', { code }),
    {
      success: t('profile.mfa_enabled'),
      invalidate: ['mfa'],
      onSuccess: (out) => {
        setEnrolment(null);
        setCodes(out.recovery_codes);
      },
    },
  );
  const disable = useApiMutation((code: string) => api.post('/api/v1/me/mfa/disable', { code }), {
    success: t('profile.mfa_disabled'),
    invalidate: ['mfa'],
    onSuccess: () => setAsking(null),
  });
  const renew = useApiMutation(
    (code: string) => api.post<{ recovery_codes: string[] }>('/api/v1/me/mfa/recovery-codes', { code }),
    {
      invalidate: ['mfa'],
      onSuccess: (out) => {
        setAsking(null);
        setCodes(out.recovery_codes);
      },
    },
  );
  const mfa = status.data;

  return (
    <Page id="profile" title={t('profile.title')} subTitle={t('profile.subtitle')}>
      <Space direction="vertical" size={16} style={{ width: '100%', maxWidth: 760 }}>
        <AccountCard role={role} />
        <Card
          title={
            <Space>
              <SafetyCertificateOutlined />
              {t('profile.mfa')}
            </Space>
          }
          extra={
            mfa ? (
              <Tag color={mfa.totp ? 'green' : 'default'} data-testid="mfa-state">
                {mfa.totp ? t('profile.mfa_on') : t('profile.mfa_off')}
              </Tag>
            ) : null
          }
        >
          {status.error ? <ErrorAlert error={status.error} /> : null}
          {mfa?.required ? (
            <Alert type="info" showIcon message={t('profile.mfa_required')} style={{ marginBottom: 12 }} />
          ) : null}
          {codes ? <RecoveryCodes codes={codes} onDone={() => setCodes(null)} /> : null}
          {mfa && !mfa.totp && !enrolment && !codes ? (
            <Button
              type="primary"
              onClick={() => start.mutate()}
              loading={start.isPending}
              data-testid="mfa-enable"
            >
              {t('profile.mfa_enable')}
            </Button>
          ) : null}
          {enrolment ? (
            <Form layout="vertical" onFinish={(v: { code: string }) => confirm.mutate(v.code.trim())}>
              <Typography.Paragraph>{t('profile.mfa_scan')}</Typography.Paragraph>
              <Descriptions column={1} size="small" style={{ marginBottom: 12 }}>
                <Descriptions.Item label={t('profile.mfa_secret')}>
                  <Typography.Text code copyable data-testid="mfa-secret">
                    {enrolment.secret}
                  </Typography.Text>
                </Descriptions.Item>
                <Descriptions.Item label={t('profile.mfa_link')}>
                  <Typography.Link href={enrolment.otpauth_uri} copyable style={{ wordBreak: 'break-all' }}>
                    {enrolment.otpauth_uri}
                  </Typography.Link>
                </Descriptions.Item>
              </Descriptions>
              <Form.Item name="code" label={t('login.mfa_code')} rules={[{ required: true }]}>
                <Input autoComplete="one-time-code" style={{ maxWidth: 200 }} data-testid="mfa-code" />
              </Form.Item>
              <Button type="primary" htmlType="submit" loading={confirm.isPending} data-testid="mfa-confirm">
                {t('profile.mfa_confirm')}
              </Button>
            </Form>
          ) : null}
          {mfa?.enabled && !codes ? (
            <Space direction="vertical" style={{ width: '100%' }}>
              <Typography.Text type="secondary">
                {t('profile.mfa_codes_left', { count: mfa.recovery_codes_left })}
              </Typography.Text>
              {asking ? (
                <Form
                  layout="inline"
                  onFinish={(v: { code: string }) =>
                    asking === 'disable' ? disable.mutate(v.code.trim()) : renew.mutate(v.code.trim())
                  }
                >
                  <Form.Item name="code" rules={[{ required: true }]}>
                    <Input placeholder={t('profile.mfa_code_prompt')} data-testid="mfa-code" />
                  </Form.Item>
                  <Button
                    htmlType="submit"
                    danger={asking === 'disable'}
                    loading={disable.isPending || renew.isPending}
                    data-testid="mfa-code-submit"
                  >
                    {asking === 'disable' ? t('profile.mfa_disable') : t('profile.mfa_new_codes')}
                  </Button>
                  <Button type="link" onClick={() => setAsking(null)}>
                    {t('profile.cancel')}
                  </Button>
                </Form>
              ) : (
                <Space>
                  <Button onClick={() => setAsking('codes')}>{t('profile.mfa_new_codes')}</Button>
                  {mfa.required && mfa.passkeys === 0 ? null : !mfa.totp ? null : (
                    <Button danger onClick={() => setAsking('disable')} data-testid="mfa-disable">
                      {t('profile.mfa_disable')}
                    </Button>
                  )}
                </Space>
              )}
            </Space>
          ) : null}
        </Card>
        <PasskeysCard />
        <MyKeysCard />
      </Space>
    </Page>
  );
}
