import { DeleteOutlined, EditOutlined, MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { type ProColumns, ProTable } from '@ant-design/pro-components';
import type { ApiItem, ApiResponse } from '@maas/contracts';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Checkbox, Form, Input, Modal, Select, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, listAll } from '../api/client.ts';
import { useApiMutation } from '../api/mutation.ts';
import { useOrgKey } from '../api/queries.ts';
import type { Org, Role } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { Page } from '../components/page.tsx';
import { EmptyState, ErrorAlert } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';

type IdentityProvider = ApiItem<'/api/v1/identity-providers'>;
type Kind = IdentityProvider['kind'];
type Values = Omit<IdentityProvider, 'id' | 'has_client_secret'> & { client_secret?: string };

const KINDS: { value: Kind; label: string }[] = [
  { value: 'keycloak', label: 'Keycloak' },
  { value: 'entra', label: 'Microsoft Entra ID' },
  { value: 'google', label: 'Google' },
  { value: 'github', label: 'GitHub (OAuth)' },
  { value: 'oidc', label: 'OpenID Connect' },
];
const GITHUB_SCOPES = 'read:user user:email read:org';
const ROLES: Role[] = ['viewer', 'operator', 'admin', 'owner'];

/** Platform admins' OpenID Connect providers: the login page offers each enabled one. */
export default function IdentityProvidersPage() {
  const t = useT();
  const { me } = useAuth();
  const admin = me?.user?.is_platform_admin ?? false;
  const list = useQuery({
    queryKey: useOrgKey('identity-providers'),
    queryFn: () => api.get<ApiResponse<'/api/v1/identity-providers'>>('/api/v1/identity-providers'),
    enabled: admin,
  });
  const orgs = useQuery({ queryKey: useOrgKey('orgs'), queryFn: () => listAll<Org>('/api/v1/orgs') });
  const [editing, setEditing] = useState<IdentityProvider | 'new' | null>(null);
  const [form] = Form.useForm<Values>();
  const save = useApiMutation(
    ({ id, values }: { id: string | null; values: Values }) => {
      const body = { ...values, client_secret: values.client_secret || undefined };
      return id
        ? api.patch<IdentityProvider>(`/api/v1/identity-providers/${id}`, body)
        : api.post<IdentityProvider>('/api/v1/identity-providers', body);
    },
    {
      success: (p) => t('idp.saved', { name: p.name }),
      invalidate: ['identity-providers'],
      onSuccess: () => setEditing(null),
    },
  );
  const remove = useApiMutation((id: string) => api.del(`/api/v1/identity-providers/${id}`), {
    invalidate: ['identity-providers'],
  });
  const origin = window.location.origin;

  const columns: ProColumns<IdentityProvider>[] = [
    {
      title: t('idp.name'),
      dataIndex: 'name',
      render: (_, p) => (
        <Space>
          <Typography.Text strong>{p.name}</Typography.Text>
          <Tag>{KINDS.find((k) => k.value === p.kind)?.label}</Tag>
          {p.enabled ? null : <Tag color="default">off</Tag>}
        </Space>
      ),
    },
    {
      title: t('idp.slug'),
      dataIndex: 'slug',
      render: (_, p) => <span className="maas-mono">{p.slug}</span>,
    },
    { title: t('idp.issuer'), dataIndex: 'issuer', ellipsis: true },
    { title: t('idp.rules'), key: 'rules', render: (_, p) => p.rules.length },
    {
      title: t('idp.client_secret'),
      key: 'secret',
      render: (_, p) => (p.has_client_secret ? t('idp.client_secret_set') : t('idp.client_secret_none')),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: 200,
      render: (_, p) => (
        <Space size={0}>
          <Button
            type="link"
            size="small"
            icon={<EditOutlined />}
            onClick={() => {
              form.setFieldsValue({ ...p, client_secret: '' });
              setEditing(p);
            }}
          >
            {t('idp.edit')}
          </Button>
          <Button
            type="link"
            size="small"
            danger
            icon={<DeleteOutlined />}
            onClick={() =>
              Modal.confirm({
                title: t('idp.delete_confirm', { name: p.name }),
                okButtonProps: { danger: true },
                onOk: () => remove.mutateAsync(p.id),
              })
            }
          />
        </Space>
      ),
    },
  ];

  return (
    <Page id="identity-providers" title={t('idp.title')} subTitle={t('idp.subtitle')}>
      {!admin ? <Alert type="info" showIcon message={t('idp.only_platform_admins')} /> : null}
      {list.error ? <ErrorAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
      {admin ? (
        <>
          <Alert
            type="info"
            style={{ marginBottom: 16 }}
            message={
              <Space direction="vertical" size={0}>
                <span>
                  {t('idp.redirect_uri')}:{' '}
                  <Typography.Text code copyable>{`${origin}/api/v1/auth/sso/callback`}</Typography.Text>
                </span>
                <span>
                  {t('idp.logout_uri')}: <Typography.Text code copyable>{`${origin}/login`}</Typography.Text>
                </span>
              </Space>
            }
          />
          <ProTable<IdentityProvider>
            rowKey="id"
            search={false}
            options={false}
            loading={list.isLoading}
            dataSource={list.data?.data ?? []}
            columns={columns}
            pagination={false}
            locale={{ emptyText: <EmptyState title={t('idp.empty')} /> }}
            toolBarRender={() => [
              <Button
                key="add"
                type="primary"
                icon={<PlusOutlined />}
                data-testid="idp-add"
                onClick={() => {
                  form.resetFields();
                  form.setFieldsValue({
                    kind: 'keycloak',
                    scopes: 'openid email profile',
                    enabled: true,
                    jit_users: true,
                    trust_email: false,
                    rules: [],
                  });
                  setEditing('new');
                }}
              >
                {t('idp.add')}
              </Button>,
            ]}
          />
        </>
      ) : null}
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('idp.add') : t('idp.edit')}
        width={760}
        onCancel={() => setEditing(null)}
        confirmLoading={save.isPending}
        onOk={() =>
          form
            .validateFields()
            .then((values) =>
              save.mutate({ id: editing === 'new' || editing === null ? null : editing.id, values }),
            )
        }
        destroyOnHidden
      >
        <Form form={form} layout="vertical" requiredMark={false} preserve={false}>
          <Space.Compact block>
            <Form.Item name="name" label={t('idp.name')} rules={[{ required: true }]} style={{ flex: 1 }}>
              <Input data-testid="idp-name" />
            </Form.Item>
            <Form.Item
              name="slug"
              label={t('idp.slug')}
              rules={[{ required: true, pattern: /^[a-z0-9][a-z0-9-]{0,39}$/ }]}
              style={{ flex: 1 }}
            >
              <Input className="maas-mono" data-testid="idp-slug" />
            </Form.Item>
            <Form.Item name="kind" label={t('idp.kind')} style={{ width: 200 }}>
              <Select
                options={KINDS}
                onChange={(kind: Kind) => {
                  // GitHub speaks OAuth 2.0 only: its own scopes, no openid
                  const scopes = String(form.getFieldValue('scopes') ?? '');
                  if (kind === 'github')
                    form.setFieldsValue({
                      scopes: GITHUB_SCOPES,
                      issuer: form.getFieldValue('issuer') || 'https://github.com',
                    });
                  else if (!scopes.split(' ').includes('openid'))
                    form.setFieldsValue({ scopes: 'openid email profile' });
                }}
              />
            </Form.Item>
          </Space.Compact>
          <Form.Item name="issuer" label={t('idp.issuer')} rules={[{ required: true, type: 'url' }]}>
            <Input placeholder="https://keycloak.example.com/realms/acme" data-testid="idp-issuer" />
          </Form.Item>
          <Space.Compact block>
            <Form.Item
              name="client_id"
              label={t('idp.client_id')}
              rules={[{ required: true }]}
              style={{ flex: 1 }}
            >
              <Input data-testid="idp-client-id" />
            </Form.Item>
            <Form.Item
              name="client_secret"
              label={t('idp.client_secret')}
              extra={editing !== 'new' ? t('idp.client_secret_keep') : undefined}
              style={{ flex: 1 }}
            >
              <Input.Password autoComplete="new-password" data-testid="idp-client-secret" />
            </Form.Item>
          </Space.Compact>
          <Form.Item name="scopes" label={t('idp.scopes')} rules={[{ required: true }]}>
            <Input className="maas-mono" />
          </Form.Item>
          <Space wrap>
            <Form.Item name="enabled" valuePropName="checked" noStyle>
              <Checkbox>{t('idp.enabled')}</Checkbox>
            </Form.Item>
            <Form.Item name="jit_users" valuePropName="checked" noStyle>
              <Checkbox>{t('idp.jit')}</Checkbox>
            </Form.Item>
            <Form.Item name="trust_email" valuePropName="checked" noStyle>
              <Checkbox>{t('idp.trust_email')}</Checkbox>
            </Form.Item>
          </Space>
          <Typography.Title level={5} style={{ marginTop: 16 }}>
            {t('idp.rules')}
          </Typography.Title>
          <Typography.Paragraph type="secondary">{t('idp.rules_hint')}</Typography.Paragraph>
          <Form.List name="rules">
            {(fields, { add, remove: drop }) => (
              <>
                {fields.map((field) => (
                  <Space key={field.key} align="baseline" wrap>
                    <Form.Item name={[field.name, 'claim']} rules={[{ required: true }]}>
                      <Input placeholder={t('idp.rule_claim')} style={{ width: 150 }} />
                    </Form.Item>
                    <Form.Item name={[field.name, 'value']} rules={[{ required: true }]}>
                      <Input placeholder={t('idp.rule_value')} style={{ width: 150 }} />
                    </Form.Item>
                    <Form.Item name={[field.name, 'org_id']} rules={[{ required: true }]}>
                      <Select
                        placeholder={t('idp.rule_org')}
                        style={{ width: 170 }}
                        options={(orgs.data ?? []).map((o) => ({ value: o.id, label: o.name }))}
                      />
                    </Form.Item>
                    <Form.Item name={[field.name, 'role']} rules={[{ required: true }]}>
                      <Select
                        placeholder={t('idp.rule_role')}
                        style={{ width: 120 }}
                        options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
                      />
                    </Form.Item>
                    <MinusCircleOutlined onClick={() => drop(field.name)} />
                  </Space>
                ))}
                <Button
                  type="dashed"
                  icon={<PlusOutlined />}
                  onClick={() => add({ claim: 'groups', value: '', role: 'viewer' })}
                >
                  {t('idp.rule_add')}
                </Button>
              </>
            )}
          </Form.List>
        </Form>
      </Modal>
    </Page>
  );
}
