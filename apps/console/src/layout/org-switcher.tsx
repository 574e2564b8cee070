import { ApartmentOutlined, DownOutlined } from '@ant-design/icons';
import { App, Button, Dropdown } from 'antd';
import { useAuth } from '../auth/auth.tsx';
import { useErrorText } from '../components/error-text.ts';
import { useT } from '../i18n/index.tsx';

/** The header's org menu: the caller's orgs with their role. */
export function OrgSwitcher() {
  const { me, switchOrg } = useAuth();
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  if (!me) return null;
  return (
    <>
      <Dropdown
        trigger={['click']}
        menu={{
          selectable: true,
          selectedKeys: [me.org.id],
          items: [
            { key: 'title', type: 'group', label: t('org.switch_title') },
            ...me.memberships.map((m) => ({
              key: m.org_id,
              label: `${m.org_name} · ${t(`role.${m.role}`)}`,
            })),
          ],
          onClick: async ({ key }) => {
            const org = me.memberships.find((m) => m.org_id === key && key !== me.org.id);
            if (!org) return;
            try {
              await switchOrg(org.org_id);
              message.success(t('org.switched', { name: org.org_name }));
            } catch (err) {
              message.error(errorText(err));
            }
          },
        }}
      >
        <Button type="text" icon={<ApartmentOutlined />} data-testid="org-switcher">
          <span
            style={{
              maxWidth: 160,
              overflow: 'hidden',
              textOverflow: 'ellipsis',
              display: 'inline-block',
              verticalAlign: 'bottom',
            }}
          >
            {me.org.name}
          </span>
          <DownOutlined style={{ fontSize: 10 }} />
        </Button>
      </Dropdown>
    </>
  );
}
