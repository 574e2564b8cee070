import { Checkbox, Form, Input, Modal, Space, Typography } from 'antd';
import { useEffect } from 'react';
import { api } from '../../api/client.ts';
import { useApiMutation } from '../../api/mutation.ts';
import { useT } from '../../i18n/index.tsx';
import { type EndpointWithSecret, EVENT_CHOICES, type WebhookEndpoint } from './webhook-api.ts';

interface Values {
  url: string;
  description?: string;
  events: string[];
}

/**
 * Adds an endpoint (the answer carries its secret, shown once by the caller) or changes one's URL,
 * description and event filters.
 */
export function EndpointFormModal({
  open,
  editing,
  onClose,
  onCreated,
}: {
  open: boolean;
  /** the endpoint to change; none: a new one */
  editing: WebhookEndpoint | null;
  onClose(): void;
  onCreated(endpoint: EndpointWithSecret): void;
}) {
  const t = useT();
  const [form] = Form.useForm<Values>();
  useEffect(() => {
    if (!open) return;
    form.setFieldsValue(
      editing
        ? { url: editing.url, description: editing.description ?? '', events: editing.events }
        : { url: '', description: '', events: [...EVENT_CHOICES] },
    );
  }, [open, editing, form]);
  const create = useApiMutation(
    (v: Values) =>
      api.post<EndpointWithSecret>('/api/v1/webhook-endpoints', {
        url: v.url.trim(),
        events: v.events,
        ...(v.description?.trim() ? { description: v.description.trim() } : {}),
      }),
    { invalidate: ['webhook-endpoints'], onSuccess: onCreated },
  );
  const update = useApiMutation(
    (v: Values) =>
      api.patch<WebhookEndpoint>(`/api/v1/webhook-endpoints/${editing!.id}`, {
        url: v.url.trim(),
        events: v.events,
        description: v.description?.trim() || null,
      }),
    { success: t('common.saved'), invalidate: ['webhook-endpoints'], onSuccess: onClose },
  );
  const submit = (v: Values) => (editing ? update : create).mutate(v);
  // patterns set through the API that the checkboxes do not name are kept as they are
  const extra = (editing?.events ?? []).filter((e) => !(EVENT_CHOICES as readonly string[]).includes(e));

  return (
    <Modal
      open={open}
      title={editing ? t('webhooks.edit_title') : t('webhooks.new')}
      okText={editing ? t('webhooks.save') : t('webhooks.create')}
      onOk={() => form.submit()}
      okButtonProps={{ loading: create.isPending || update.isPending, 'data-testid': 'webhook-submit' }}
      onCancel={onClose}
      destroyOnHidden
      forceRender
    >
      <Form form={form} layout="vertical" onFinish={submit}>
        <Form.Item
          name="url"
          label={t('webhooks.url')}
          extra={t('webhooks.url_hint')}
          rules={[
            { required: true, message: t('webhooks.url_required') },
            { type: 'url', message: t('webhooks.url_invalid') },
          ]}
        >
          <Input placeholder="https://example.com/webhooks/maas" data-testid="webhook-url" />
        </Form.Item>
        <Form.Item name="description" label={t('common.description')}>
          <Input maxLength={500} />
        </Form.Item>
        <Form.Item
          name="events"
          label={t('webhooks.events')}
          extra={t('webhooks.events_hint')}
          rules={[{ required: true, type: 'array', min: 1, message: t('webhooks.events_required') }]}
        >
          <Checkbox.Group style={{ width: '100%' }}>
            <Space direction="vertical" size={4}>
              {[...EVENT_CHOICES, ...extra].map((e) => (
                <Checkbox key={e} value={e} data-testid={`event-${e}`}>
                  <Typography.Text className="maas-mono">{e}</Typography.Text>
                  {(EVENT_CHOICES as readonly string[]).includes(e) ? (
                    <Typography.Text type="secondary">
                      {' '}
                      · {t(`webhooks.event.${e as (typeof EVENT_CHOICES)[number]}`)}
                    </Typography.Text>
                  ) : null}
                </Checkbox>
              ))}
            </Space>
          </Checkbox.Group>
        </Form.Item>
      </Form>
    </Modal>
  );
}
