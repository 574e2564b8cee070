import { Alert, Button, Card, Form, Input, Space, Typography, theme } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, request } from '../api/client.ts';
import type { Role } from '../api/types.ts';
import { useErrorText } from '../components/error-text.ts';
import { useT } from '../i18n/index.tsx';
import { LanguageSwitch, ThemeToggle } from '../layout/header-actions.tsx';
import { formatDateTime } from '../lib/format.ts';

interface Offer {
  org_name?: string;
  org_id: string;
  email: string;
  role: Role;
  expires_at: string;
  has_account: boolean;
}

/** The token travels in the fragment: it never reaches a server log or a Referer header. */
const tokenOf = () => new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';

const post = <T,>(path: string, body: unknown) => request<T>('POST', path, { body, auth: false });

/** Where the mailed invitation link lands: accept (creating the account if need be) or decline. */
export default function InvitePage() {
  const t = useT();
  const { token: theming } = theme.useToken();
  const errorText = useErrorText();
  const [token] = useState(tokenOf);
  const [offer, setOffer] = useState<Offer | null>(null);
  const [invalid, setInvalid] = useState(false);
  const [done, setDone] = useState<'accepted' | 'declined' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const errorTextRef = useRef(errorText);
  errorTextRef.current = errorText;
  useEffect(() => {
    if (!token) {
      setInvalid(true);
      return;
    }
    let live = true;
    post<Offer>('/api/v1/auth/invitations/lookup', { token }).then(
      (o) => live && setOffer(o),
      (err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && (err.status === 404 || err.status === 400)) setInvalid(true);
        else setError(errorTextRef.current(err));
      },
    );
    return () => {
      live = false;
    };
  }, [token]);
  // once the link is spent (or was never good), drop the token from the address bar and history
  useEffect(() => {
    if (done || invalid) window.history.replaceState(null, '', window.location.pathname);
  }, [done, invalid]);

  const act = async (action: 'accept' | 'decline', extra: { name?: string; password?: string } = {}) => {
    setBusy(true);
    setError(null);
    try {
      await post(`/api/v1/auth/invitations/${action}`, { token, ...extra });
      setDone(action === 'accept' ? 'accepted' : 'declined');
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setInvalid(true);
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const org = offer?.org_name ?? offer?.org_id ?? '';
  return (
    <div style={{ minHeight: '100vh', background: theming.colorBgLayout, padding: '64px 16px' }}>
      <Space style={{ position: 'absolute', top: 16, right: 16 }}>
        <LanguageSwitch />
        <ThemeToggle />
      </Space>
      <Card title={t('invite.title')} style={{ maxWidth: 480, margin: '0 auto' }} data-testid="invite-card">
        {error ? <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
        {invalid ? (
          <Alert type="warning" showIcon message={t('invite.invalid')} data-testid="invite-invalid" />
        ) : done ? (
          <Space direction="vertical">
            <Alert
              type={done === 'accepted' ? 'success' : 'info'}
              showIcon
              message={done === 'accepted' ? t('invite.accepted', { org }) : t('invite.declined')}
              data-testid="invite-done"
            />
            {done === 'accepted' ? <Link to="/login">{t('invite.sign_in')}</Link> : null}
          </Space>
        ) : !offer ? (
          <Typography.Text type="secondary">{t('invite.loading')}</Typography.Text>
        ) : (
          <Space direction="vertical" style={{ width: '100%' }}>
            <Typography.Paragraph data-testid="invite-offer">
              {t('invite.offer', { org, email: offer.email, role: t(`role.${offer.role}`) })}
            </Typography.Paragraph>
            <Typography.Text type="secondary">
              {t('invite.expires', { date: formatDateTime(offer.expires_at) })}
            </Typography.Text>
            <Typography.Paragraph style={{ marginTop: 12 }}>
              {offer.has_account ? t('invite.existing_account') : t('invite.new_account')}
            </Typography.Paragraph>
            <Form
              layout="vertical"
              onFinish={(v: { name?: string; password?: string }) =>
                act('accept', offer.has_account ? {} : { name: v.name || undefined, password: v.password })
              }
            >
              {offer.has_account ? null : (
                <>
                  <Form.Item name="name" label={t('profile.name')}>
                    <Input maxLength={200} autoComplete="name" data-testid="invite-name" />
                  </Form.Item>
                  <Form.Item
                    name="password"
                    label={t('profile.new_password')}
                    rules={[{ required: true, min: 12, message: t('invite.password_min') }]}
                  >
                    <Input.Password autoComplete="new-password" data-testid="invite-password" />
                  </Form.Item>
                </>
              )}
              <Space>
                <Button type="primary" htmlType="submit" loading={busy} data-testid="invite-accept">
                  {t('invite.accept')}
                </Button>
                <Button onClick={() => act('decline')} disabled={busy} data-testid="invite-decline">
                  {t('invite.decline')}
                </Button>
              </Space>
            </Form>
          </Space>
        )}
      </Card>
    </div>
  );
}
