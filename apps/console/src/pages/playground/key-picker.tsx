import { KeyOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Divider, Input, Select, Space, Typography } from 'antd';
import { useState } from 'react';
import { api } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useProjects } from '../../api/queries.ts';
import type { IssuedKey } from '../../api/types.ts';
import { useAuth } from '../../auth/auth.tsx';
import { useT } from '../../i18n/index.tsx';
import { type PlaygroundKey, savePlaygroundKey } from '../../lib/playground-key.ts';

/**
 * The playground (and the files and batches pages) call /v1 like an application does: with an API
 * key, kept in this tab only. `hint` and `keyName` tell what the key is for.
 */
export function KeyPicker({
  onPicked,
  hint,
  keyName = 'playground',
}: {
  onPicked(key: PlaygroundKey): void;
  hint?: string;
  keyName?: string;
}) {
  const t = useT();
  const { can } = useAuth();
  const projects = useProjects();
  const [secret, setSecret] = useState('');
  const [project, setProject] = useState<string | undefined>();
  const pick = (key: PlaygroundKey) => {
    savePlaygroundKey(key);
    onPicked(key);
  };
  const create = useApiMutation(
    (projectId: string) =>
      api.post<IssuedKey>('/api/v1/keys', {
        name: `${keyName} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
        project_id: projectId,
        scopes: ['inference'],
      }),
    {
      success: t('playground.key_created'),
      invalidate: ['keys'],
      onSuccess: (k) => pick({ secret: k.key, name: k.name }),
    },
  );
  const projectId = project ?? projects.data?.[0]?.id;
  return (
    <Card
      style={{ maxWidth: 640, margin: '24px auto' }}
      title={
        <Space>
          <KeyOutlined />
          {t('playground.key_title')}
        </Space>
      }
    >
      <Typography.Paragraph type="secondary">{hint ?? t('playground.key_hint')}</Typography.Paragraph>
      <Space.Compact style={{ width: '100%' }}>
        <Input.Password
          placeholder="sk-maas-…"
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          data-testid="playground-key-input"
          onPressEnter={() =>
            secret.trim() && pick({ secret: secret.trim(), name: `${secret.trim().slice(0, 14)}…` })
          }
        />
        <Button
          type="primary"
          disabled={!secret.trim()}
          onClick={() => pick({ secret: secret.trim(), name: `${secret.trim().slice(0, 14)}…` })}
          data-testid="playground-key-use"
        >
          {t('playground.use_key')}
        </Button>
      </Space.Compact>
      {can('write') ? (
        <>
          <Divider plain>{t('common.or')}</Divider>
          {projects.data?.length === 0 ? (
            <Alert type="info" showIcon message={t('keys.need_project')} />
          ) : (
            <Space wrap>
              <Select
                style={{ width: 220 }}
                value={projectId}
                onChange={setProject}
                options={(projects.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
                loading={projects.isLoading}
              />
              <Button
                icon={<PlusOutlined />}
                loading={create.isPending}
                disabled={!projectId}
                onClick={() => projectId && create.mutate(projectId)}
              >
                {t('playground.create_key')}
              </Button>
            </Space>
          )}
        </>
      ) : null}
    </Card>
  );
}
