import {
  CheckCircleFilled,
  CloseCircleFilled,
  ReloadOutlined,
  SafetyCertificateOutlined,
} from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Space, Typography } from 'antd';
import { api } from '../../api/client.ts';
import { useOrgKey } from '../../api/queries.ts';
import type { AuditVerification } from '../../api/types.ts';
import { useT } from '../../i18n/index.tsx';

export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.refresh_reused',
  'bill.finalize',
  'key.create',
  'key.revoke',
  'key.rotate',
  'key.update',
  'limit.create',
  'limit.delete',
  'limit.threshold_reached',
  'limit.update',
  'membership.create',
  'membership.delete',
  'membership.update',
  'model.create',
  'model.delete',
  'model.traffic.set',
  'model.version.create',
  'model.version.update',
  'org.create',
  'org.delete',
  'org.update',
  'price.create',
  'price.delete',
  'project.create',
  'project.delete',
  'project.update',
  'provider.create',
  'provider.delete',
  'provider.update',
  'system.bootstrap',
  'user.create',
];

export function actionColor(action: string): string {
  if (/delete|revoke|remove|failed|reused/.test(action)) return 'red';
  if (/create|add|issue/.test(action)) return 'green';
  if (/update|rotate|traffic|change|finalize/.test(action)) return 'orange';
  return 'blue';
}

/** Whether the org's audit hash chain verifies: every event intact and in order. */
export function ChainStatus() {
  const t = useT();
  const verify = useQuery({
    queryKey: useOrgKey('audit-verify'),
    queryFn: () => api.get<AuditVerification>('/api/v1/audit-events/verify'),
  });
  const v = verify.data;
  return (
    <Card size="small" style={{ marginBottom: 16 }} data-testid="audit-chain">
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <Space size={12}>
          <SafetyCertificateOutlined
            style={{ fontSize: 22, color: v ? (v.ok ? '#52c41a' : '#ff4d4f') : undefined }}
          />
          <div>
            <Typography.Text strong>
              {verify.isLoading
                ? t('audit.verifying')
                : verify.error
                  ? t('audit.verify_failed')
                  : v?.ok
                    ? t('audit.chain_ok')
                    : t('audit.chain_broken')}
            </Typography.Text>
            <br />
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {v
                ? v.ok
                  ? t('audit.chain_ok_hint', { n: v.checked })
                  : t('audit.chain_broken_hint', { id: v.first_broken_id ?? '?', n: v.checked })
                : t('audit.chain_hint')}
            </Typography.Text>
          </div>
          {v ? (
            v.ok ? (
              <CheckCircleFilled style={{ color: '#52c41a' }} />
            ) : (
              <CloseCircleFilled style={{ color: '#ff4d4f' }} />
            )
          ) : null}
        </Space>
        <Button icon={<ReloadOutlined />} loading={verify.isFetching} onClick={() => verify.refetch()}>
          {t('audit.verify_again')}
        </Button>
      </Space>
    </Card>
  );
}
