import {
  KeyOutlined,
  LogoutOutlined,
  MoonOutlined,
  SafetyCertificateOutlined,
  SunOutlined,
  TranslationOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { Avatar, Button, Dropdown, Space, Tag, Tooltip, Typography } from 'antd';
import { useNavigate } from 'react-router';
import { useAuth } from '../auth/auth.tsx';
import { type Lang, useI18n } from '../i18n/index.tsx';
import { useThemeMode } from '../lib/theme.tsx';

const LANGS: { key: Lang; label: string }[] = [
  { key: 'en', label: 'English' },
  { key: 'zh', label: '简体中文' },
];

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <Dropdown
      menu={{
        selectable: true,
        selectedKeys: [lang],
        items: LANGS.map((l) => ({
          key: l.key,
          label: <span data-testid={`lang-${l.key}`}>{l.label}</span>,
        })),
        onClick: ({ key }) => setLang(key as Lang),
      }}
    >
      <Button
        type="text"
        icon={<TranslationOutlined />}
        aria-label={t('header.language')}
        data-testid="language-switch"
      >
        {lang === 'zh' ? '中文' : 'EN'}
      </Button>
    </Dropdown>
  );
}

export function ThemeToggle() {
  const { isDark, setMode } = useThemeMode();
  const { t } = useI18n();
  const label = isDark ? t('header.theme_light') : t('header.theme_dark');
  return (
    <Tooltip title={label}>
      <Button
        type="text"
        aria-label={label}
        data-testid="theme-toggle"
        icon={isDark ? <SunOutlined /> : <MoonOutlined />}
        onClick={() => setMode(isDark ? 'light' : 'dark')}
      />
    </Tooltip>
  );
}

export function UserMenu() {
  const { me, role, logout } = useAuth();
  const { t } = useI18n();
  const navigate = useNavigate();
  const email = me?.user?.email ?? '';
  return (
    <Dropdown
      trigger={['click']}
      menu={{
        items: [
          {
            key: 'who',
            disabled: true,
            label: (
              <Space direction="vertical" size={0} style={{ padding: '4px 0' }}>
                <Typography.Text strong>{me?.user?.name || email}</Typography.Text>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {email}
                </Typography.Text>
                {role ? <Tag style={{ marginTop: 4 }}>{t(`role.${role}`)}</Tag> : null}
              </Space>
            ),
          },
          { type: 'divider' },
          {
            key: 'profile',
            icon: <SafetyCertificateOutlined />,
            label: <span data-testid="nav-profile">{t('nav.profile')}</span>,
            onClick: () => navigate('/profile'),
          },
          ...(me?.user?.is_platform_admin
            ? [
                {
                  key: 'identity-providers',
                  icon: <KeyOutlined />,
                  label: <span data-testid="nav-identity-providers">{t('nav.identity_providers')}</span>,
                  onClick: () => navigate('/identity-providers'),
                },
              ]
            : []),
          { type: 'divider' },
          {
            key: 'logout',
            icon: <LogoutOutlined />,
            label: <span data-testid="logout">{t('header.logout')}</span>,
            onClick: () => void logout(),
          },
        ],
      }}
    >
      <Button type="text" data-testid="user-menu" style={{ paddingInline: 6 }}>
        <Space size={8}>
          <Avatar size="small" icon={<UserOutlined />} style={{ background: '#4f7cff' }} />
          <span className="maas-user-name">{me?.user?.name || email}</span>
        </Space>
      </Button>
    </Dropdown>
  );
}
