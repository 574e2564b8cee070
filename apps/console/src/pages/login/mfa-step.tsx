import { KeyOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { startAuthentication } from '@simplewebauthn/browser';
import { Alert, Button, Divider, Form, Input, Space, Typography } from 'antd';
import { useState } from 'react';
import { ApiError, request } from '../../api/client.ts';
import type { TokenPair } from '../../api/session.ts';
import type { MfaChallenge } from '../../auth/auth.tsx';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';

interface Props {
  challenge: MfaChallenge;
  /** tokens, and the recovery codes when this step turned MFA on */
  onDone(pair: TokenPair, recoveryCodes: string[] | null): void;
  onCancel(): void;
}

/** The second sign-in step: a code, or (org policy) setting TOTP up before any session exists. */
export function MfaStep({ challenge, onDone, onCancel }: Props) {
  const t = useT();
  const errorText = useErrorText();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauth_uri: string } | null>(null);
  const enrol = challenge.mfa_required === 'enrol';

  async function run<T>(work: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    try {
      return await work();
    } catch (err) {
      const wrongCode = err instanceof ApiError && err.code === 'invalid_credentials';
      setError(wrongCode ? t('login.mfa_wrong') : errorText(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  }

  const submit = (values: { code: string }) =>
    run(async () => {
      const body = { mfa_token: challenge.mfa_token, code: values.code.trim() };
      if (!enrol) {
        onDone(await request<TokenPair>('POST', '/api/v1/auth/mfa/verify', { auth: false, body }), null);
        return;
      }
      const out = await request<TokenPair & { recovery_codes: string[] }>(
        'POST',
        '/api/v1/auth/mfa/enrol/confirm',
        { auth: false, body },
      );
      onDone(out, out.recovery_codes);
    });

  const withPasskey = () =>
    run(async () => {
      const optionsJSON = await request<Parameters<typeof startAuthentication>[0]['optionsJSON']>(
        'POST',
        '/api/v1/auth/mfa/passkey/options',
        { auth: false, body: { mfa_token: challenge.mfa_token } },
      );
      const response = await startAuthentication({ optionsJSON }).catch(() => {
        throw new Error(t('login.mfa_passkey_failed'));
      });
      const body = { mfa_token: challenge.mfa_token, response };
      onDone(
        await request<TokenPair>('POST', '/api/v1/auth/mfa/passkey/verify', { auth: false, body }),
        null,
      );
    });
  const passkey = !enrol && challenge.mfa_methods?.includes('passkey');

  return (
    <div data-testid="mfa-step">
      <Typography.Title level={3} style={{ marginTop: 0 }}>
        <SafetyCertificateOutlined /> {enrol ? t('login.mfa_enrol_title') : t('login.mfa_title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">
        {enrol ? t('login.mfa_enrol_hint') : t('login.mfa_hint')}
      </Typography.Paragraph>
      {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      {passkey ? (
        <>
          <Button
            type="primary"
            block
            size="large"
            icon={<KeyOutlined />}
            loading={busy}
            onClick={withPasskey}
            data-testid="mfa-passkey"
          >
            {t('login.mfa_passkey')}
          </Button>
          <Divider plain>{t('login.sso_or')}</Divider>
        </>
      ) : null}
      {enrol && !enrolment ? (
        <Button
          type="primary"
          block
          size="large"
          loading={busy}
          data-testid="mfa-enrol-start"
          onClick={() =>
            run(async () =>
              setEnrolment(
                await request('POST', '/api/v1/auth/mfa/enrol', {
                  auth: false,
                  body: { mfa_token: challenge.mfa_token },
                }),
              ),
            )
          }
        >
          {t('profile.mfa_enable')}
        </Button>
      ) : (
        <Form layout="vertical" requiredMark={false} onFinish={submit}>
          {enrolment ? (
            <Space direction="vertical" style={{ width: '100%', marginBottom: 12 }}>
              <Typography.Text type="secondary">{t('profile.mfa_secret')}</Typography.Text>
              <Typography.Text code copyable data-testid="mfa-secret">
                {enrolment.secret}
              </Typography.Text>
              <Typography.Link href={enrolment.otpauth_uri}>{t('profile.mfa_link')}</Typography.Link>
            </Space>
          ) : null}
          <Form.Item name="code" label={t('login.mfa_code')} rules={[{ required: true }]}>
            <Input size="large" autoComplete="one-time-code" autoFocus data-testid="mfa-code" />
          </Form.Item>
          <Button type="primary" htmlType="submit" size="large" block loading={busy} data-testid="mfa-submit">
            {enrol ? t('login.mfa_enrol_continue') : t('login.mfa_verify')}
          </Button>
        </Form>
      )}
      <Button type="link" block onClick={onCancel} style={{ marginTop: 8 }}>
        {t('login.mfa_back')}
      </Button>
    </div>
  );
}

/** Recovery codes, shown once after TOTP is turned on. */
export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone?: () => void }) {
  const t = useT();
  return (
    <div data-testid="recovery-codes">
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        {t('login.recovery_title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('login.recovery_hint')}</Typography.Paragraph>
      <Typography.Paragraph copyable={{ text: codes.join('\n') }}>
        <pre style={{ columns: 2, margin: 0 }}>{codes.join('\n')}</pre>
      </Typography.Paragraph>
      {onDone ? (
        <Button type="primary" block onClick={onDone} data-testid="recovery-done">
          {t('login.recovery_done')}
        </Button>
      ) : null}
    </div>
  );
}
