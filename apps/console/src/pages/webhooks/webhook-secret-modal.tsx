import { WarningOutlined } from '@ant-design/icons';
import { Alert, Button, Checkbox, Modal, Space, Typography } from 'antd';
import { useState } from 'react';
import { CopyButton } from '../../components/copy-button.tsx';
import { useT } from '../../i18n/index.tsx';
import type { EndpointWithSecret } from './webhook-api.ts';

const verifySnippet = (secret: string) =>
  `import OpenAI from 'openai';\n\nconst client = new OpenAI({ webhookSecret: '${secret}' });\n// in your handler, with the raw body and the headers:\nconst event = await client.webhooks.unwrap(rawBody, headers);\nconsole.log(event.type, event.data);`;

/** The one time an endpoint's signing secret is shown (after create or rotate). */
export function WebhookSecretModal({
  issued,
  rotated,
  onClose,
}: {
  issued: EndpointWithSecret | null;
  rotated: boolean;
  onClose(): void;
}) {
  const t = useT();
  const [stored, setStored] = useState(false);
  const close = () => {
    setStored(false);
    onClose();
  };
  return (
    <Modal
      open={issued !== null}
      title={
        <Space>
          <WarningOutlined style={{ color: '#faad14' }} />
          {rotated ? t('webhooks.secret_title_rotated') : t('webhooks.secret_title')}
        </Space>
      }
      width={640}
      maskClosable={false}
      closable={false}
      keyboard={false}
      destroyOnHidden
      footer={
        <Button type="primary" disabled={!stored} onClick={close} data-testid="webhook-secret-done">
          {t('keys.secret_done')}
        </Button>
      }
    >
      {issued ? (
        <Space direction="vertical" size={16} style={{ width: '100%' }}>
          <Alert
            type="warning"
            showIcon
            message={t('keys.secret_warning_title')}
            description={rotated ? t('webhooks.secret_rotated_hint') : t('webhooks.secret_hint')}
          />
          <div>
            <Typography.Text type="secondary">{t('webhooks.secret_of', { url: issued.url })}</Typography.Text>
            <div style={{ display: 'flex', gap: 8, alignItems: 'stretch', marginTop: 6 }}>
              <div className="maas-secret" style={{ flex: 1 }} data-testid="webhook-secret">
                {issued.secret}
              </div>
              <CopyButton text={issued.secret} type="primary" />
            </div>
          </div>
          <div>
            <Typography.Text type="secondary">{t('webhooks.verify_hint')}</Typography.Text>
            <pre
              className="maas-mono"
              style={{
                fontSize: 12,
                padding: 12,
                borderRadius: 8,
                background: 'rgba(127,127,127,0.08)',
                overflowX: 'auto',
                margin: '6px 0 0',
              }}
            >
              {verifySnippet(issued.secret)}
            </pre>
          </div>
          <Checkbox
            checked={stored}
            onChange={(e) => setStored(e.target.checked)}
            data-testid="webhook-secret-stored"
          >
            {t('keys.secret_ack')}
          </Checkbox>
        </Space>
      ) : null}
    </Modal>
  );
}
