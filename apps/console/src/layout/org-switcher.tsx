import { ApartmentOutlined, DownOutlined } from '@ant-design/icons';
import { App, Button, Dropdown, Form, Input, Modal, Typography } from 'antd';
import { useState } from 'react';
import { useAuth } from '../auth/auth.tsx';
import { useErrorText } from '../components/error-text.ts';
import { useT } from '../i18n/index.tsx';

export interface OrgRef {
  id: string;
  name: string;
}

/** Switching org signs in again into the chosen org: the password is asked once more. */
export function SwitchOrgModal({ target, onClose }: { target: OrgRef | null; onClose: () => void }) {
  const { me, login } = useAuth();
  const t = useT();
  const errorText = useErrorText();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<{ password: string }>();
  return (
    <Modal
      open={target !== null}
      title={t('org.switch_to', { name: target?.name ?? '' })}
      okText={t('org.switch')}
      confirmLoading={busy}
      onCancel={onClose}
      onOk={() => form.submit()}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary">{t('org.switch_hint')}</Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        preserve={false}
        onFinish={async ({ password }) => {
          if (!target || !me?.user) return;
          setBusy(true);
          try {
            await login(me.user.email, password, target.id);
            message.success(t('org.switched', { name: target.name }));
            onClose();
          } catch (err) {
            message.error(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Form.Item
          name="password"
          label={t('login.password')}
          rules={[{ required: true, message: t('login.password_required') }]}
        >
          <Input.Password autoFocus autoComplete="current-password" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** The header's org menu: the caller's orgs with their role. */
export function OrgSwitcher() {
  const { me } = useAuth();
  const t = useT();
  const [target, setTarget] = useState<OrgRef | null>(null);
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
          onClick: ({ key }) => {
            const org = me.memberships.find((m) => m.org_id === key && key !== me.org.id);
            if (org) setTarget({ id: org.org_id, name: org.org_name });
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
      <SwitchOrgModal target={target} onClose={() => setTarget(null)} />
    </>
  );
}
