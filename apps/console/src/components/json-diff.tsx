import { Empty, Segmented, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useT } from '../i18n/index.tsx';

type Change = 'added' | 'removed' | 'changed' | 'same';
interface DiffRow {
  path: string;
  before: unknown;
  after: unknown;
  change: Change;
}

function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (
    value !== null &&
    typeof value === 'object' &&
    !(Array.isArray(value) && value.every((v) => typeof v !== 'object'))
  ) {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value as object);
    if (entries.length === 0 && prefix) out.set(prefix, value);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix || value !== undefined) {
    out.set(prefix || '(value)', value);
  }
  return out;
}

export function diffOf(before: unknown, after: unknown): DiffRow[] {
  const a = before === null || before === undefined ? new Map<string, unknown>() : flatten(before);
  const b = after === null || after === undefined ? new Map<string, unknown>() : flatten(after);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths.map((path) => {
    const x = a.get(path);
    const y = b.get(path);
    const change: Change = !a.has(path)
      ? 'added'
      : !b.has(path)
        ? 'removed'
        : JSON.stringify(x) === JSON.stringify(y)
          ? 'same'
          : 'changed';
    return { path, before: x, after: y, change };
  });
}

const show = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const COLORS: Record<Change, string> = { added: 'green', removed: 'red', changed: 'orange', same: 'default' };

/** Before / after of an audited change: changed fields side by side, or both documents whole. */
export function JsonDiff({ before, after }: { before: unknown; after: unknown }) {
  const t = useT();
  const [mode, setMode] = useState<'changes' | 'all' | 'raw'>('changes');
  const rows = diffOf(before, after);
  const visible = mode === 'all' ? rows : rows.filter((r) => r.change !== 'same');
  if (rows.length === 0)
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('audit.no_payload')} />;
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="audit-diff">
      <Segmented
        size="small"
        value={mode}
        onChange={(v) => setMode(v as typeof mode)}
        options={[
          { value: 'changes', label: t('audit.diff_changes') },
          { value: 'all', label: t('audit.diff_all') },
          { value: 'raw', label: t('audit.diff_raw') },
        ]}
      />
      {mode === 'raw' ? (
        <div style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 12 }}>
          {[
            [t('audit.before'), before],
            [t('audit.after'), after],
          ].map(([label, doc]) => (
            <div key={String(label)}>
              <Typography.Text type="secondary">{String(label)}</Typography.Text>
              <pre
                className="maas-mono"
                style={{
                  fontSize: 12,
                  background: 'rgba(127,127,127,0.08)',
                  padding: 10,
                  borderRadius: 6,
                  overflow: 'auto',
                  maxHeight: 360,
                }}
              >
                {doc === null || doc === undefined ? '—' : JSON.stringify(doc, null, 2)}
              </pre>
            </div>
          ))}
        </div>
      ) : (
        <Table<DiffRow>
          size="small"
          rowKey="path"
          pagination={false}
          dataSource={visible}
          locale={{ emptyText: t('audit.no_changes') }}
          columns={[
            {
              title: t('audit.field'),
              dataIndex: 'path',
              render: (p: string, r) => (
                <Space size={4}>
                  <span className="maas-mono">{p}</span>
                  <Tag color={COLORS[r.change]}>{t(`audit.change.${r.change}`)}</Tag>
                </Space>
              ),
            },
            {
              title: t('audit.before'),
              dataIndex: 'before',
              render: (v: unknown, r) => (
                <span
                  className={
                    r.change === 'removed' || r.change === 'changed'
                      ? 'maas-diff-removed maas-mono'
                      : 'maas-mono'
                  }
                >
                  {show(v)}
                </span>
              ),
            },
            {
              title: t('audit.after'),
              dataIndex: 'after',
              render: (v: unknown, r) => (
                <span
                  className={
                    r.change === 'added' || r.change === 'changed' ? 'maas-diff-added maas-mono' : 'maas-mono'
                  }
                >
                  {show(v)}
                </span>
              ),
            },
          ]}
        />
      )}
    </Space>
  );
}
