import { KeyOutlined } from '@ant-design/icons';
import type { ApiItem, ApiResponse } from '@maas/contracts';
import { startRegistration } from '@simplewebauthn/browser';
import { useQuery } from '@tanstack/react-query';
import { App, Button, Card, Form, Input, Popconfirm, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { api } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useOrgKey } from '../../api/queries.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { RecoveryCodes } from '../login/mfa-step.tsx';

type Passkey = ApiItem<'/api/v1/me/mfa/passkeys'>;

/** The signed-in user's passkeys: add one through the browser's WebAuthn prompt, remove one. */
export function PasskeysCard() {
  const t = useT();
  const { message } = App.useApp();
  const [naming, setNaming] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);
  const list = useQuery({
    queryKey: useOrgKey('passkeys'),
    queryFn: () => api.get<ApiResponse<'/api/v1/me/mfa/passkeys'>>('/api/v1/me/mfa/passkeys'),
  });
  const add = useApiMutation(
    async (name: string) => {
      const optionsJSON = await api.post<Parameters<typeof startRegistration>[0]['optionsJSON']>(
        '/api/v1/me/mfa/passkeys/options',
        {},
      );
      const response = await startRegistration({ optionsJSON }).catch(() => {
        throw new Error(t('passkeys.cancelled'));
      });
      return api.post<ApiResponse<'/api/v1/me/mfa/passkeys', 'post'>>('/api/v1/me/mfa/passkeys', {
        name,
        response,
      });
    },
    {
      success: t('passkeys.added'),
      invalidate: ['passkeys', 'mfa'],
      onSuccess: (out) => {
        setNaming(false);
        setCodes(out.recovery_codes);
      },
    },
  );
  const remove = useApiMutation((id: string) => api.del(`/api/v1/me/mfa/passkeys/${id}`), {
    success: t('passkeys.removed'),
    invalidate: ['passkeys', 'mfa'],
  });

  return (
    <Card
      title={
        <Space>
          <KeyOutlined />
          {t('passkeys.title')}
        </Space>
      }
      data-testid="passkeys-card"
    >
      <Typography.Paragraph type="secondary">{t('passkeys.hint')}</Typography.Paragraph>
      {list.error ? <ErrorAlert error={list.error} onRetry={() => list.refetch()} /> : null}
      {codes ? <RecoveryCodes codes={codes} onDone={() => setCodes(null)} /> : null}
      <Table<Passkey>
        size="small"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data?.data}
        pagination={false}
        locale={{ emptyText: t('passkeys.empty') }}
        style={{ marginBottom: 12 }}
        columns={[
          { title: t('passkeys.name'), dataIndex: 'name' },
          { title: t('common.created'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v) },
          {
            title: t('passkeys.last_used'),
            dataIndex: 'last_used_at',
            render: (v: string | null) => (v ? formatDateTime(v) : t('passkeys.never')),
          },
          {
            title: '',
            key: 'actions',
            align: 'right',
            render: (_: unknown, p: Passkey) => (
              <Popconfirm title={t('passkeys.remove_confirm')} onConfirm={() => remove.mutate(p.id)}>
                <Button size="small" danger data-testid={`passkey-remove-${p.name}`}>
                  {t('passkeys.remove')}
                </Button>
              </Popconfirm>
            ),
          },
        ]}
      />
      {naming ? (
        <Form layout="inline" onFinish={(v: { name: string }) => add.mutate(v.name.trim())}>
          <Form.Item name="name" rules={[{ required: true, whitespace: true, max: 64 }]}>
            <Input placeholder={t('passkeys.name_placeholder')} autoFocus data-testid="passkey-name" />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={add.isPending} data-testid="passkey-create">
            {t('passkeys.add')}
          </Button>
          <Button type="link" onClick={() => setNaming(false)}>
            {t('profile.cancel')}
          </Button>
        </Form>
      ) : (
        <Button
          onClick={() =>
            window.PublicKeyCredential ? setNaming(true) : message.error(t('passkeys.cancelled'))
          }
          data-testid="passkey-add"
        >
          {t('passkeys.add')}
        </Button>
      )}
    </Card>
  );
}
