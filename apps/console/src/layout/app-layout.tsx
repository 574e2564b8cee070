import { ProLayout } from '@ant-design/pro-components';
import { Alert, Spin, Tag } from 'antd';
import { Suspense } from 'react';
import { Link, Outlet, useLocation } from 'react-router';
import { useAuth } from '../auth/auth.tsx';
import { ErrorBoundary } from '../components/error-boundary.tsx';
import { ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { useThemeMode } from '../lib/theme.tsx';
import { LanguageSwitch, ThemeToggle, UserMenu } from './header-actions.tsx';
import { InvitationsBanner } from './invitations-banner.tsx';
import { MENU } from './menu.tsx';
import { OrgSwitcher } from './org-switcher.tsx';

const GROUPS = ['observe', 'build', 'govern'] as const;

export function Logo() {
  return <img src="/favicon.svg" alt="" width={28} height={28} style={{ borderRadius: 7 }} />;
}

/** The signed-in frame: sider menu, header with org switcher / language / theme / user, the page. */
export function AppLayout() {
  const t = useT();
  const { isDark } = useThemeMode();
  const { pathname } = useLocation();
  const { role, meError } = useAuth();
  const route = {
    path: '/',
    routes: GROUPS.map((group) => ({
      path: `/__${group}`,
      name: t(`nav.group.${group}`),
      children: MENU.filter((m) => m.group === group).map((m) => ({
        path: m.path,
        name: t(m.label),
        icon: m.icon,
      })),
    })),
  };
  return (
    <ProLayout
      title="maas"
      logo={<Logo />}
      layout="mix"
      navTheme={isDark ? 'realDark' : 'light'}
      fixSiderbar
      fixedHeader
      siderWidth={224}
      route={route}
      location={{ pathname }}
      menu={{ type: 'group', locale: false }}
      token={{
        header: { heightLayoutHeader: 56 },
        sider: isDark
          ? undefined
          : {
              colorMenuBackground: '#fff',
              colorBgMenuItemSelected: 'rgba(79,124,255,0.10)',
              colorTextMenuSelected: '#3a5ee6',
            },
        pageContainer: { paddingBlockPageContainerContent: 20, paddingInlinePageContainerContent: 32 },
      }}
      menuItemRender={(item, dom) => (
        <Link to={item.path ?? '/'} data-testid={`nav-${(item.path ?? '/').replace('/', '') || 'overview'}`}>
          {dom}
        </Link>
      )}
      actionsRender={() => [
        <OrgSwitcher key="org" />,
        role ? (
          <Tag
            key="role"
            bordered={false}
            color={role === 'viewer' ? 'default' : 'processing'}
            data-testid="role-tag"
            style={{ marginInlineEnd: 0 }}
          >
            {t(`role.${role}`)}
          </Tag>
        ) : null,
        <LanguageSwitch key="lang" />,
        <ThemeToggle key="theme" />,
        <UserMenu key="user" />,
      ]}
      menuFooterRender={(props) =>
        props?.collapsed ? null : (
          <div style={{ padding: '8px 16px', fontSize: 12, opacity: 0.5 }}>
            <a href="/docs" target="_blank" rel="noreferrer">
              {t('nav.api_docs')}
            </a>
          </div>
        )
      }
    >
      {role === 'viewer' ? (
        <Alert
          type="info"
          showIcon
          banner
          message={t('role.viewer_banner')}
          style={{ marginBottom: 0 }}
          data-testid="viewer-banner"
        />
      ) : null}
      <InvitationsBanner />
      {meError ? <ErrorAlert error={meError} /> : null}
      <Suspense
        fallback={
          <div style={{ display: 'flex', justifyContent: 'center', padding: 96 }}>
            <Spin size="large" />
          </div>
        }
      >
        <ErrorBoundary resetKey={pathname}>
          <Outlet />
        </ErrorBoundary>
      </Suspense>
    </ProLayout>
  );
}
