import { useQuery } from '@tanstack/react-query';
import { Button, Card, Popconfirm, Space, Table, Tag } from 'antd';
import { api, listAll } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useOrgKey } from '../../api/queries.ts';
import type { Role } from '../../api/types.ts';
import { ErrorAlert } from '../../components/states.tsx';
import { useT } from '../../i18n/index.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { RoleTag } from '../members.tsx';

export interface SentInvitation {
  id: string;
  email: string;
  role: Role;
  status: string;
  mail_status: 'queued' | 'sent' | 'failed' | null;
  mailed_at: string | null;
  expires_at: string;
}

const MAIL_COLORS = { queued: 'processing', sent: 'success', failed: 'error' } as const;

/** The org's pending invitations with their mail status; admins resend or withdraw them. */
export function InvitationsCard({ canManage }: { canManage: boolean }) {
  const t = useT();
  const list = useQuery({
    queryKey: useOrgKey('invitations'),
    queryFn: () => listAll<SentInvitation>('/api/v1/invitations'),
    // a mailing just queued turns to sent (or failed) within seconds
    refetchInterval: (q) => (q.state.data?.some((i) => i.mail_status === 'queued') ? 2_000 : false),
  });
  const resend = useApiMutation(
    (id: string) => api.post<SentInvitation>(`/api/v1/invitations/${id}/resend`, {}),
    { success: (r) => t('invitations.resent', { email: r.email }), invalidate: ['invitations'] },
  );
  const revoke = useApiMutation((id: string) => api.del(`/api/v1/invitations/${id}`), {
    success: t('invitations.revoked'),
    invalidate: ['invitations'],
  });
  return (
    <Card title={t('invitations.title')} style={{ marginTop: 16 }} data-testid="invitations-card">
      {list.error ? <ErrorAlert error={list.error} onRetry={() => list.refetch()} /> : null}
      <Table<SentInvitation>
        size="small"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        locale={{ emptyText: t('invitations.empty') }}
        columns={[
          { title: t('invitations.email'), dataIndex: 'email' },
          { title: t('members.role'), dataIndex: 'role', render: (r: Role) => <RoleTag role={r} /> },
          {
            title: t('invitations.mail'),
            dataIndex: 'mail_status',
            render: (s: SentInvitation['mail_status']) =>
              s ? (
                <Tag color={MAIL_COLORS[s]} data-testid="invitation-mail-status">
                  {t(`invitations.mail_${s}`)}
                </Tag>
              ) : (
                <Tag>{t('invitations.mail_none')}</Tag>
              ),
          },
          {
            title: t('invitations.expires'),
            dataIndex: 'expires_at',
            render: (v: string) => formatDateTime(v),
          },
          ...(canManage
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  render: (_: unknown, i: SentInvitation) => (
                    <Space size={0}>
                      <Button
                        size="small"
                        type="link"
                        onClick={() => resend.mutate(i.id)}
                        data-testid="invitation-resend"
                      >
                        {t('invitations.resend')}
                      </Button>
                      <Popconfirm
                        title={t('invitations.revoke_confirm', { email: i.email })}
                        okButtonProps={{ danger: true }}
                        onConfirm={() => revoke.mutateAsync(i.id)}
                      >
                        <Button size="small" type="link" danger data-testid="invitation-revoke">
                          {t('invitations.revoke')}
                        </Button>
                      </Popconfirm>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Card>
  );
}
