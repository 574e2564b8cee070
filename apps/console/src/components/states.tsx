import { ReloadOutlined } from '@ant-design/icons';
import { Alert, Button, Empty, Result, Space, Spin } from 'antd';
import type { ReactNode } from 'react';
import { ApiError } from '../api/client.ts';
import { useT } from '../i18n/index.tsx';
import { useErrorText } from './error-text.ts';

/** A failed load, in words, with a retry button. */
export function ErrorAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT();
  const text = useErrorText();
  if (error instanceof ApiError && error.isMissingRoute) return <FeatureUnavailable />;
  return (
    <Alert
      type="error"
      showIcon
      message={t('state.load_failed')}
      description={text(error)}
      action={
        onRetry ? (
          <Button size="small" icon={<ReloadOutlined />} onClick={onRetry}>
            {t('action.retry')}
          </Button>
        ) : undefined
      }
      style={{ marginBottom: 16 }}
    />
  );
}

/** An empty list: what it is and what to do next. */
export function EmptyState({
  title,
  hint,
  action,
}: {
  title: ReactNode;
  hint?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <Empty
      image={Empty.PRESENTED_IMAGE_SIMPLE}
      description={
        <Space direction="vertical" size={4}>
          <span style={{ fontWeight: 500 }}>{title}</span>
          {hint ? <span style={{ opacity: 0.65 }}>{hint}</span> : null}
        </Space>
      }
      style={{ padding: '32px 0' }}
    >
      {action}
    </Empty>
  );
}

/** This server does not offer the feature yet (its route answers 404). */
export function FeatureUnavailable({ feature }: { feature?: string }) {
  const t = useT();
  return (
    <Result
      status="info"
      title={t('state.unavailable_title')}
      subTitle={feature ? t('state.unavailable_named', { feature }) : t('state.unavailable_hint')}
    />
  );
}

export function PageSpin() {
  return (
    <div style={{ display: 'flex', justifyContent: 'center', padding: 64 }}>
      <Spin size="large" />
    </div>
  );
}

export const isMissingRoute = (err: unknown): boolean => err instanceof ApiError && err.isMissingRoute;
