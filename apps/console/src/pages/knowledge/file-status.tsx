import {
  CheckCircleFilled,
  CloseCircleFilled,
  LoadingOutlined,
  MinusCircleOutlined,
} from '@ant-design/icons';
import { Space, Tag, Tooltip, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useT } from '../../i18n/index.tsx';
import { formatMs } from '../../lib/format.ts';
import {
  type FileCounts,
  type FileStatus,
  STAGES,
  type StageState,
  type VectorStoreFile,
} from '../../lib/knowledge-bases.ts';

const COLORS: Record<FileStatus, string> = {
  in_progress: 'processing',
  completed: 'success',
  failed: 'error',
  cancelled: 'default',
};

export function FileStatusTag({ status }: { status: FileStatus }) {
  const t = useT();
  return (
    <Tag color={COLORS[status]} data-testid="kb-file-status" data-status={status}>
      {t(`kb.status.${status}`)}
    </Tag>
  );
}

/** A store's files by status: "3 completed · 1 in progress · 1 failed". */
export function FileCountsView({ counts }: { counts: FileCounts }) {
  const t = useT();
  if (counts.total === 0) return <Typography.Text type="secondary">{t('kb.no_files')}</Typography.Text>;
  const parts = (['completed', 'in_progress', 'failed', 'cancelled'] as const).filter((s) => counts[s] > 0);
  return (
    <Space size={4} wrap data-testid="kb-file-counts">
      {parts.map((s) => (
        <Tag key={s} color={COLORS[s]} style={{ marginInlineEnd: 0 }}>
          {counts[s]} {t(`kb.status.${s}`)}
        </Tag>
      ))}
    </Space>
  );
}

type StageView = 'done' | 'running' | 'failed' | 'waiting';

const stageView = (s: StageState | undefined, fileStatus: FileStatus): StageView => {
  if (!s || s.started_at === null) return 'waiting';
  if (s.error) return 'failed';
  if (s.finished_at !== null) return 'done';
  // a stage left unfinished: still running, where the file failed, or stopped by a cancellation
  return fileStatus === 'in_progress' ? 'running' : fileStatus === 'failed' ? 'failed' : 'waiting';
};

const ICONS: Record<StageView, ReactNode> = {
  done: <CheckCircleFilled style={{ color: '#52c41a' }} />,
  running: <LoadingOutlined style={{ color: '#4f7cff' }} />,
  failed: <CloseCircleFilled style={{ color: '#ff4d4f' }} />,
  waiting: <MinusCircleOutlined style={{ color: '#bfbfbf' }} />,
};

/** parse → split → embed → index, each with its state and how long it took; a failure says why. */
export function FileStages({ file }: { file: VectorStoreFile }) {
  const t = useT();
  return (
    <Space direction="vertical" size={2} data-testid="kb-file-stages">
      <Space size={12} wrap>
        {STAGES.map((name) => {
          const s = file.stages[name];
          const view = stageView(s, file.status);
          const took =
            s?.started_at && s.finished_at
              ? formatMs(s.finished_at - s.started_at)
              : view === 'running'
                ? '…'
                : '';
          const tip = s?.started_at
            ? [
                `${t('kb.stage.started')}: ${new Date(s.started_at).toLocaleString()}`,
                s.finished_at ? `${t('kb.stage.finished')}: ${new Date(s.finished_at).toLocaleString()}` : '',
                s.count !== undefined ? `${t(`kb.stage.count.${name}`)}: ${s.count}` : '',
              ]
                .filter(Boolean)
                .join('\n')
            : t('kb.stage.waiting');
          return (
            <Tooltip key={name} title={<span style={{ whiteSpace: 'pre-line' }}>{tip}</span>}>
              <span data-testid={`kb-stage-${name}`} data-state={view} style={{ whiteSpace: 'nowrap' }}>
                {ICONS[view]} {t(`kb.stage.${name}`)}
                {took ? (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {' '}
                    {took}
                  </Typography.Text>
                ) : null}
              </span>
            </Tooltip>
          );
        })}
      </Space>
      {file.status === 'failed' ? (
        <Typography.Text type="danger" style={{ fontSize: 12 }} data-testid="kb-file-error">
          {file.last_error?.message ?? STAGES.map((n) => file.stages[n]?.error).find(Boolean) ?? ''}
        </Typography.Text>
      ) : null}
    </Space>
  );
}
