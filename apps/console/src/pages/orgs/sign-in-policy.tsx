import { SafetyCertificateOutlined } from '@ant-design/icons';
import { ModalForm, ProFormSwitch } from '@ant-design/pro-components';
import { Button } from 'antd';
import { api } from '../../api/client.ts';
import { succeeded, useApiMutation } from '../../api/mutation.ts';
import type { Org } from '../../api/types.ts';
import { useT } from '../../i18n/index.tsx';

interface Policy {
  sso_required: boolean;
  mfa_required_for_admins: boolean;
}

/** The current org's sign-in policy (owners and admins): SSO only, MFA for admins. */
export function SignInPolicyButton({ org }: { org: Org & Partial<Policy> }) {
  const t = useT();
  const save = useApiMutation((v: Policy) => api.patch<Org>(`/api/v1/orgs/${org.id}`, v), {
    success: t('common.saved'),
    invalidate: ['orgs'],
  });
  return (
    <ModalForm<Policy>
      title={t('orgs.security')}
      trigger={
        <Button type="link" size="small" icon={<SafetyCertificateOutlined />} data-testid="org-security">
          {t('orgs.security')}
        </Button>
      }
      initialValues={{
        sso_required: org.sso_required ?? false,
        mfa_required_for_admins: org.mfa_required_for_admins ?? false,
      }}
      modalProps={{ destroyOnHidden: true }}
      onFinish={(v) => succeeded(save.mutateAsync(v))}
    >
      <ProFormSwitch name="sso_required" label={t('orgs.sso_required')} />
      <ProFormSwitch name="mfa_required_for_admins" label={t('orgs.mfa_required_for_admins')} />
    </ModalForm>
  );
}
