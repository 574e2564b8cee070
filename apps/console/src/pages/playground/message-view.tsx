import { RobotOutlined, UserOutlined } from '@ant-design/icons';
import { Avatar, Space, Tag, Tooltip, Typography, theme } from 'antd';
import { useT } from '../../i18n/index.tsx';
import { formatCost, formatMs, formatNumber } from '../../lib/format.ts';

export interface ReplyStats {
  promptTokens: number | null;
  completionTokens: number | null;
  cost: number | null;
  currency: string;
  ttftMs: number | null;
  latencyMs: number;
  target: string | null;
  model: string;
}

export interface Turn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  streaming?: boolean;
  stats?: ReplyStats;
  error?: string;
}

export function MessageView({ turn }: { turn: Turn }) {
  const t = useT();
  const { token } = theme.useToken();
  const mine = turn.role === 'user';
  return (
    <div
      style={{ display: 'flex', gap: 12, flexDirection: mine ? 'row-reverse' : 'row', marginBottom: 18 }}
      data-testid={mine ? 'chat-user' : 'chat-assistant'}
    >
      <Avatar
        icon={mine ? <UserOutlined /> : <RobotOutlined />}
        style={{ background: mine ? token.colorPrimary : '#7b4dff', flex: 'none' }}
      />
      <div style={{ maxWidth: '78%' }}>
        <div
          className="maas-chat-bubble"
          style={{
            padding: '10px 14px',
            borderRadius: 12,
            background: mine ? token.colorPrimaryBg : token.colorFillQuaternary,
            border: `1px solid ${turn.error ? token.colorErrorBorder : token.colorBorderSecondary}`,
          }}
        >
          {turn.error ? (
            <Typography.Text type="danger">{turn.error}</Typography.Text>
          ) : (
            turn.content || (turn.streaming ? '…' : '')
          )}
          {turn.streaming ? <span className="maas-caret"> ▍</span> : null}
        </div>
        {turn.stats ? (
          <Space size={[4, 4]} wrap style={{ marginTop: 6 }} data-testid="reply-stats">
            <Tooltip title={t('playground.tokens_hint')}>
              <Tag>
                {t('playground.tokens')}: {formatNumber(turn.stats.promptTokens)} →{' '}
                {formatNumber(turn.stats.completionTokens)}
              </Tag>
            </Tooltip>
            <Tooltip title={t('playground.cost_hint')}>
              <Tag color="gold">
                {t('playground.cost')}:{' '}
                {turn.stats.cost === null ? '—' : formatCost(turn.stats.cost, turn.stats.currency)}
              </Tag>
            </Tooltip>
            <Tag color="blue">
              {t('playground.latency')}: {formatMs(turn.stats.latencyMs)}
            </Tag>
            {turn.stats.ttftMs !== null ? (
              <Tag>
                {t('playground.ttft')}: {formatMs(turn.stats.ttftMs)}
              </Tag>
            ) : null}
            {turn.stats.target ? <Tag className="maas-mono">{turn.stats.target}</Tag> : null}
          </Space>
        ) : null}
      </div>
    </div>
  );
}
