import { useQuery } from '@tanstack/react-query';
import { Button, Card, Form, Select, Switch, Typography } from 'antd';
import { useEffect } from 'react';
import { api } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useOrgKey } from '../../api/queries.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';

interface Registration {
  enabled: boolean;
  domains: string[];
}

/** Self-registration to the org: off by default; owners and admins open it to email domains. */
export function RegistrationCard({ canManage }: { canManage: boolean }) {
  const t = useT();
  const [form] = Form.useForm<Registration>();
  const current = useQuery({
    queryKey: useOrgKey('org-registration'),
    queryFn: () => api.get<Registration>('/api/v1/org-registration'),
  });
  useEffect(() => {
    if (current.data) form.setFieldsValue(current.data);
  }, [current.data, form]);
  const save = useApiMutation((v: Registration) => api.put<Registration>('/api/v1/org-registration', v), {
    success: t('registration.saved'),
    invalidate: ['org-registration'],
  });
  return (
    <Card title={t('registration.title')} style={{ marginTop: 16 }} data-testid="registration-card">
      {current.error ? <ErrorAlert error={current.error} /> : null}
      <Typography.Paragraph type="secondary">{t('registration.hint')}</Typography.Paragraph>
      <Form<Registration>
        form={form}
        layout="vertical"
        disabled={!canManage}
        initialValues={{ enabled: false, domains: [] }}
        onFinish={(v) => save.mutate({ enabled: v.enabled, domains: v.domains ?? [] })}
      >
        <Form.Item name="enabled" label={t('registration.enabled')} valuePropName="checked">
          <Switch data-testid="registration-enabled" />
        </Form.Item>
        <Form.Item name="domains" label={t('registration.domains')}>
          <Select
            mode="tags"
            tokenSeparators={[',', ' ']}
            placeholder={t('registration.domains_placeholder')}
            open={false}
            data-testid="registration-domains"
          />
        </Form.Item>
        {canManage ? (
          <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="registration-save">
            {t('settings.save')}
          </Button>
        ) : null}
      </Form>
    </Card>
  );
}
