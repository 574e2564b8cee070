import {
  LineChartOutlined,
  LockOutlined,
  MailOutlined,
  SafetyCertificateOutlined,
  ThunderboltOutlined,
} from '@ant-design/icons';
import { Alert, Button, Card, Form, Input, Space, Typography, theme } from 'antd';
import { useEffect, useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { refreshSession } from '../api/client.ts';
import type { TokenPair } from '../api/session.ts';
import { type MfaChallenge, useAuth } from '../auth/auth.tsx';
import { useErrorText } from '../components/error-text.ts';
import { useT } from '../i18n/index.tsx';
import { Logo } from '../layout/app-layout.tsx';
import { LanguageSwitch, ThemeToggle } from '../layout/header-actions.tsx';
import { MfaStep, RecoveryCodes } from './login/mfa-step.tsx';
import { SsoButtons } from './login/sso-buttons.tsx';
import { useSsoError } from './login/sso-error.ts';

export function LoginPage() {
  const t = useT();
  const { token } = theme.useToken();
  const { session, restoring, login, finishLogin } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const errorText = useErrorText();
  const ssoError = useSsoError(params.get('sso_error'));
  const [error, setError] = useState<string | null>(ssoError);
  const [busy, setBusy] = useState(false);
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);
  const [enrolled, setEnrolled] = useState<{ pair: TokenPair; codes: string[] } | null>(null);
  const ssoDone = params.get('sso') === 'done';
  const [finishingSso, setFinishingSso] = useState(ssoDone && !session);
  const next = params.get('next');
  const target = next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
  useEffect(() => {
    if (!finishingSso) return;
    // the server set the session cookie before sending the browser here: pick the session up
    void refreshSession().then((ok) => {
      setFinishingSso(false);
      if (ok) navigate(target, { replace: true });
    });
  }, [finishingSso, navigate, target]);
  if (session) return <Navigate to={target} replace />;
  if (restoring) return null;
  if (finishingSso)
    return (
      <Typography.Paragraph style={{ padding: 48 }} data-testid="sso-finishing">
        {t('login.sso_finishing')}
      </Typography.Paragraph>
    );

  const features = [
    { icon: <ThunderboltOutlined />, text: t('login.feature_gateway') },
    { icon: <SafetyCertificateOutlined />, text: t('login.feature_governance') },
    { icon: <LineChartOutlined />, text: t('login.feature_insight') },
  ];
  return (
    <div style={{ minHeight: '100vh', display: 'flex', background: token.colorBgLayout }}>
      <div
        className="maas-login-brand"
        style={{
          flex: '0 0 42%',
          padding: '48px 56px',
          color: '#fff',
          background: 'linear-gradient(145deg, #2f54eb 0%, #4f7cff 45%, #7b4dff 100%)',
          display: 'flex',
          flexDirection: 'column',
          justifyContent: 'space-between',
        }}
      >
        <Space size={12} align="center">
          <Logo />
          <span style={{ fontSize: 20, fontWeight: 600 }}>maas</span>
        </Space>
        <div>
          <Typography.Title level={2} style={{ color: '#fff', marginBottom: 12 }}>
            {t('login.tagline')}
          </Typography.Title>
          <Typography.Paragraph style={{ color: 'rgba(255,255,255,0.85)', fontSize: 15, maxWidth: 440 }}>
            {t('login.subtitle')}
          </Typography.Paragraph>
          <Space direction="vertical" size={14} style={{ marginTop: 24 }}>
            {features.map((f) => (
              <Space key={f.text} size={12} style={{ fontSize: 15 }}>
                <span style={{ fontSize: 18, opacity: 0.9 }}>{f.icon}</span>
                <span>{f.text}</span>
              </Space>
            ))}
          </Space>
        </div>
        <span style={{ opacity: 0.6, fontSize: 12 }}>© maas</span>
      </div>
      <div style={{ flex: 1, display: 'flex', flexDirection: 'column' }}>
        <div style={{ display: 'flex', justifyContent: 'flex-end', padding: '12px 20px', gap: 4 }}>
          <LanguageSwitch />
          <ThemeToggle />
        </div>
        <div
          style={{ flex: 1, display: 'flex', alignItems: 'center', justifyContent: 'center', padding: 24 }}
        >
          <Card style={{ width: 400, boxShadow: token.boxShadowTertiary }} variant="borderless">
            {enrolled ? (
              <RecoveryCodes
                codes={enrolled.codes}
                onDone={() => {
                  finishLogin(enrolled.pair);
                  navigate(target, { replace: true });
                }}
              />
            ) : challenge ? (
              <MfaStep
                challenge={challenge}
                onCancel={() => setChallenge(null)}
                onDone={(pair, codes) => {
                  if (codes) setEnrolled({ pair, codes });
                  else {
                    finishLogin(pair);
                    navigate(target, { replace: true });
                  }
                }}
              />
            ) : (
              <>
                <Typography.Title level={3} style={{ marginTop: 0 }}>
                  {t('login.title')}
                </Typography.Title>
                <Typography.Paragraph type="secondary">{t('login.hint')}</Typography.Paragraph>
                {next && !error ? (
                  <Alert type="info" showIcon message={t('login.continue')} style={{ marginBottom: 16 }} />
                ) : null}
                {error ? (
                  <Alert
                    type="error"
                    showIcon
                    message={error}
                    style={{ marginBottom: 16 }}
                    data-testid="login-error"
                  />
                ) : null}
                <Form
                  layout="vertical"
                  requiredMark={false}
                  onFinish={async (values: { email: string; password: string }) => {
                    setBusy(true);
                    setError(null);
                    try {
                      const asked = await login(values.email.trim(), values.password);
                      if (asked) setChallenge(asked);
                      else navigate(target, { replace: true });
                    } catch (err) {
                      setError(errorText(err));
                    } finally {
                      setBusy(false);
                    }
                  }}
                >
                  <Form.Item
                    name="email"
                    label={t('login.email')}
                    rules={[{ required: true, message: t('login.email_required') }]}
                  >
                    <Input
                      size="large"
                      prefix={<MailOutlined />}
                      autoComplete="username"
                      placeholder="admin@localhost"
                      autoFocus
                    />
                  </Form.Item>
                  <Form.Item
                    name="password"
                    label={t('login.password')}
                    rules={[{ required: true, message: t('login.password_required') }]}
                  >
                    <Input.Password size="large" prefix={<LockOutlined />} autoComplete="current-password" />
                  </Form.Item>
                  <Button
                    type="primary"
                    htmlType="submit"
                    size="large"
                    block
                    loading={busy}
                    data-testid="login-submit"
                  >
                    {t('login.submit')}
                  </Button>
                </Form>
                <SsoButtons returnTo={target} />
                <Typography.Paragraph
                  type="secondary"
                  style={{ marginTop: 20, marginBottom: 0, fontSize: 12 }}
                >
                  {t('login.first_time')}
                </Typography.Paragraph>
              </>
            )}
          </Card>
        </div>
      </div>
    </div>
  );
}
