import { GoogleOutlined, KeyOutlined, SafetyOutlined, WindowsOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Button, Divider, Space } from 'antd';
import type { ReactNode } from 'react';
import { request } from '../../api/client.ts';
import { useT } from '../../i18n/index.tsx';

interface SsoProvider {
  slug: string;
  name: string;
  kind: 'oidc' | 'keycloak' | 'entra' | 'google';
}

const ICONS: Record<SsoProvider['kind'], ReactNode> = {
  oidc: <KeyOutlined />,
  keycloak: <SafetyOutlined />,
  entra: <WindowsOutlined />,
  google: <GoogleOutlined />,
};

/** "Sign in with …" for each identity provider; a full-page navigation through the server. */
export function SsoButtons({ returnTo }: { returnTo: string }) {
  const t = useT();
  const providers = useQuery({
    queryKey: ['sso-providers'],
    queryFn: () => request<{ data: SsoProvider[] }>('GET', '/api/v1/auth/sso/providers', { auth: false }),
    staleTime: 60_000,
    retry: false,
  });
  const list = providers.data?.data ?? [];
  if (list.length === 0) return null;
  return (
    <>
      <Divider plain style={{ margin: '20px 0 16px' }}>
        {t('login.sso_or')}
      </Divider>
      <Space direction="vertical" style={{ width: '100%' }}>
        {list.map((p) => (
          <Button
            key={p.slug}
            block
            size="large"
            icon={ICONS[p.kind]}
            data-testid={`sso-${p.slug}`}
            href={`/api/v1/auth/sso/${encodeURIComponent(p.slug)}/start?return_to=${encodeURIComponent(returnTo)}`}
          >
            {t('login.sso_with', { name: p.name })}
          </Button>
        ))}
      </Space>
    </>
  );
}
