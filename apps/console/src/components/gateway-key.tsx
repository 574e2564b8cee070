import { KeyOutlined } from '@ant-design/icons';
import { Alert, Button, Space, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useState } from 'react';
import { ApiError } from '../api/client.ts';
import { useKeys, useNames, useProjects } from '../api/queries.ts';
import { useT } from '../i18n/index.tsx';
import { loadPlaygroundKey, type PlaygroundKey, savePlaygroundKey } from '../lib/playground-key.ts';
import { KeyPicker } from '../pages/playground/key-picker.tsx';
import { useErrorText } from './error-text.ts';
import { ErrorAlert } from './states.tsx';

/** The API key of this tab (shared with the playground), and a way to forget it. */
export function useGatewayKey() {
  const [key, setKey] = useState<PlaygroundKey | null>(loadPlaygroundKey);
  return {
    key,
    setKey,
    forget: () => {
      savePlaygroundKey(null);
      setKey(null);
    },
  };
}

/** Asks for an API key (the files and batches of /v1 belong to the key's project). */
export function GatewayKeyPicker({ onPicked }: { onPicked(key: PlaygroundKey): void }) {
  const t = useT();
  return <KeyPicker onPicked={onPicked} hint={t('jobs.key_hint')} keyName="console" />;
}

/** The key in use and its project, for a page header, with a button to change it. */
export function GatewayKeyBar({ apiKey, onChange }: { apiKey: PlaygroundKey; onChange(): void }) {
  const t = useT();
  const keys = useKeys();
  const projects = useProjects();
  const projectName = useNames(projects.data);
  const match = keys.data?.find((k) => apiKey.secret.startsWith(k.prefix));
  return (
    <Space>
      <Typography.Text type="secondary" data-testid="gateway-key">
        <KeyOutlined /> {apiKey.name}
        {match ? ` · ${t('jobs.project_of_key', { project: projectName(match.project_id) })}` : ''}
      </Typography.Text>
      <Button size="small" onClick={onChange}>
        {t('playground.change_key')}
      </Button>
    </Space>
  );
}

const isKeyRefusal = (error: unknown) =>
  error instanceof ApiError && (error.status === 401 || error.status === 403);

/**
 * A failed load: the gateway refused the key (revoked, expired, no inference scope), said so with
 * a way to pick another, or any other failure with a retry.
 */
export function GatewayError({
  error,
  onChange,
  onRetry,
}: {
  error: unknown;
  onChange(): void;
  onRetry(): void;
}): ReactNode {
  const t = useT();
  const errorText = useErrorText();
  if (!error) return null;
  if (!isKeyRefusal(error)) return <ErrorAlert error={error} onRetry={onRetry} />;
  return (
    <Alert
      type="error"
      showIcon
      style={{ marginBottom: 16 }}
      message={t('playground.key_refused')}
      description={errorText(error)}
      action={
        <Button size="small" onClick={onChange}>
          {t('playground.change_key')}
        </Button>
      }
    />
  );
}
