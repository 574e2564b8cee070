import { Button, Card, Descriptions, Form, Input, Space } from 'antd';
import { api } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import type { Role } from '../../api/types.ts';
import { useAuth } from '../../auth/auth.tsx';
import { useT } from '../../i18n/index.tsx';
import { RoleTag } from '../members.tsx';

/** The signed-in user's name, role and password. */
export function AccountCard({ role }: { role: Role | null | undefined }) {
  const t = useT();
  const { me } = useAuth();
  const user = me?.user;
  const [passwordForm] = Form.useForm<{ current_password: string; password: string }>();
  const rename = useApiMutation(
    (name: string) => api.patch(`/api/v1/users/${user?.id}`, { name: name.trim() || null }),
    { success: t('profile.name_saved'), invalidate: ['me', 'users'] },
  );
  const changePassword = useApiMutation(
    (v: { current_password: string; password: string }) => api.patch(`/api/v1/users/${user?.id}`, v),
    { success: t('profile.password_saved'), onSuccess: () => passwordForm.resetFields() },
  );
  return (
    <Card title={t('profile.account')}>
      <Descriptions column={1} size="small">
        <Descriptions.Item label={t('login.email')}>{user?.email}</Descriptions.Item>
        <Descriptions.Item label={t('members.role')}>
          {role ? <RoleTag role={role} /> : null}
        </Descriptions.Item>
      </Descriptions>
      {user ? (
        <Space direction="vertical" size={16} style={{ width: '100%', marginTop: 16 }}>
          <Form
            layout="inline"
            initialValues={{ name: user.name ?? '' }}
            onFinish={(v: { name: string }) => rename.mutate(v.name)}
          >
            <Form.Item name="name" label={t('profile.name')}>
              <Input maxLength={200} style={{ width: 260 }} data-testid="profile-name" />
            </Form.Item>
            <Button htmlType="submit" loading={rename.isPending} data-testid="profile-save-name">
              {t('profile.save_name')}
            </Button>
          </Form>
          <Form
            form={passwordForm}
            layout="vertical"
            style={{ maxWidth: 360 }}
            onFinish={(v) => changePassword.mutate(v)}
          >
            <Form.Item
              name="current_password"
              label={t('profile.current_password')}
              rules={[{ required: true }]}
            >
              <Input.Password autoComplete="current-password" />
            </Form.Item>
            <Form.Item
              name="password"
              label={t('profile.new_password')}
              rules={[{ required: true, min: 12, message: t('invite.password_min') }]}
            >
              <Input.Password autoComplete="new-password" />
            </Form.Item>
            <Button htmlType="submit" loading={changePassword.isPending}>
              {t('profile.password')}
            </Button>
          </Form>
        </Space>
      ) : null}
    </Card>
  );
}
