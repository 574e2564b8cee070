import type { ApiResponse } from '@maas/contracts';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Space } from 'antd';
import { api } from '../api/client.ts';
import { useApiMutation } from '../api/mutation.ts';
import { useOrgKey } from '../api/queries.ts';
import { useAuth } from '../auth/auth.tsx';
import { useT } from '../i18n/index.tsx';

/** Invitations addressed to the signed-in user: joining another org takes their own consent. */
export function InvitationsBanner() {
  const t = useT();
  const { me } = useAuth();
  const isUser = me?.kind === 'user';
  const invitations = useQuery({
    queryKey: useOrgKey('invitations', 'mine'),
    queryFn: () => api.get<ApiResponse<'/api/v1/me/invitations'>>('/api/v1/me/invitations'),
    enabled: isUser,
    retry: false,
    staleTime: 60_000,
  });
  const answer = useApiMutation(
    ({ id, action }: { id: string; action: 'accept' | 'decline' }) =>
      api.post(`/api/v1/me/invitations/${id}/${action}`, {}),
    { invalidate: ['invitations', 'me', 'orgs'] },
  );
  const pending = invitations.data?.data ?? [];
  if (!isUser || pending.length === 0) return null;
  return (
    <>
      {pending.map((inv) => (
        <Alert
          key={inv.id}
          type="info"
          showIcon
          banner
          data-testid="invitation-banner"
          message={t('invitations.offer', { org: inv.org_name ?? inv.org_id, role: t(`role.${inv.role}`) })}
          action={
            <Space>
              <Button
                size="small"
                type="primary"
                loading={answer.isPending}
                data-testid="invitation-accept"
                onClick={() => answer.mutate({ id: inv.id, action: 'accept' })}
              >
                {t('invitations.accept')}
              </Button>
              <Button
                size="small"
                loading={answer.isPending}
                onClick={() => answer.mutate({ id: inv.id, action: 'decline' })}
              >
                {t('invitations.decline')}
              </Button>
            </Space>
          }
        />
      ))}
    </>
  );
}
