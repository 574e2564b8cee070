import { ExperimentOutlined, WarningOutlined } from '@ant-design/icons';
import { Alert, Button, Checkbox, Modal, Space, Tabs, Typography } from 'antd';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import type { IssuedKey } from '../../api/types.ts';
import { CopyButton } from '../../components/copy-button.tsx';
import { useT } from '../../i18n/index.tsx';
import { savePlaygroundKey } from '../../lib/playground-key.ts';

function snippets(secret: string) {
  const base = `${window.location.origin}/v1`;
  return {
    curl: `curl ${base}/chat/completions \\\n  -H "Authorization: Bearer ${secret}" \\\n  -H "Content-Type: application/json" \\\n  -d '{"model": "MODEL", "messages": [{"role": "user", "content": "Hello"}]}'`,
    python: `from openai import OpenAI\n\nclient = OpenAI(base_url="${base}", api_key="${secret}")\nreply = client.chat.completions.create(\n    model="MODEL",\n    messages=[{"role": "user", "content": "Hello"}],\n)\nprint(reply.choices[0].message.content)`,
    node: `import OpenAI from 'openai';\n\nconst client = new OpenAI({ baseURL: '${base}', apiKey: '${secret}' });\nconst reply = await client.chat.completions.create({\n  model: 'MODEL',\n  messages: [{ role: 'user', content: 'Hello' }],\n});\nconsole.log(reply.choices[0].message.content);`,
  };
}

/** The one time a key's secret is shown: copy it, with a warning, then it is gone. */
export function SecretModal({
  issued,
  rotated,
  onClose,
}: {
  issued: IssuedKey | null;
  rotated?: boolean;
  onClose: () => void;
}) {
  const t = useT();
  const navigate = useNavigate();
  const [stored, setStored] = useState(false);
  const close = () => {
    setStored(false);
    onClose();
  };
  const code = issued ? snippets(issued.key) : null;
  return (
    <Modal
      open={issued !== null}
      title={
        <Space>
          <WarningOutlined style={{ color: '#faad14' }} />
          {rotated ? t('keys.secret_title_rotated') : t('keys.secret_title')}
        </Space>
      }
      width={680}
      maskClosable={false}
      closable={false}
      keyboard={false}
      destroyOnHidden
      footer={
        <Space>
          {issued?.scopes.includes('inference') ? (
            <Button
              icon={<ExperimentOutlined />}
              disabled={!stored}
              onClick={() => {
                if (issued) savePlaygroundKey({ secret: issued.key, name: issued.name });
                close();
                navigate('/playground');
              }}
              data-testid="secret-playground"
            >
              {t('keys.open_playground')}
            </Button>
          ) : null}
          <Button type="primary" disabled={!stored} onClick={close} data-testid="secret-done">
            {t('keys.secret_done')}
          </Button>
        </Space>
      }
    >
      {issued && code ? (
        <Space direction="vertical" size={16} style={{ width: '100%' }}>
          <Alert
            type="warning"
            showIcon
            message={t('keys.secret_warning_title')}
            description={t('keys.secret_warning')}
          />
          <div>
            <Typography.Text type="secondary">{t('keys.secret_of', { name: issued.name })}</Typography.Text>
            <div style={{ display: 'flex', gap: 8, alignItems: 'stretch', marginTop: 6 }}>
              <div className="maas-secret" style={{ flex: 1 }} data-testid="key-secret">
                {issued.key}
              </div>
              <CopyButton text={issued.key} type="primary" data-testid="copy-secret" />
            </div>
          </div>
          <Tabs
            size="small"
            items={(['curl', 'python', 'node'] as const).map((lang) => ({
              key: lang,
              label: lang === 'curl' ? 'cURL' : lang === 'python' ? 'Python' : 'Node.js',
              children: (
                <div style={{ position: 'relative' }}>
                  <pre
                    className="maas-mono"
                    style={{
                      fontSize: 12,
                      padding: 12,
                      borderRadius: 8,
                      background: 'rgba(127,127,127,0.08)',
                      overflowX: 'auto',
                      margin: 0,
                    }}
                  >
                    {code[lang]}
                  </pre>
                  <CopyButton
                    text={code[lang]}
                    size="small"
                    style={{ position: 'absolute', top: 8, right: 8 }}
                  />
                </div>
              ),
            }))}
          />
          <Checkbox
            checked={stored}
            onChange={(e) => setStored(e.target.checked)}
            data-testid="secret-stored"
          >
            {t('keys.secret_ack')}
          </Checkbox>
        </Space>
      ) : null}
    </Modal>
  );
}
