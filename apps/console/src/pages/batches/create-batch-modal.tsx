import { UploadOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Form, Input, Modal, Select, Space } from 'antd';
import { useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import { BATCH_ENDPOINTS, type Batch, createBatch, formatBytes, listFiles } from '../../lib/gateway-files.ts';
import { UploadModal } from '../files/upload-modal.tsx';

interface Values {
  input_file_id: string;
  endpoint: string;
  description?: string;
}

/** A batch from an uploaded JSONL file (purpose `batch`), or from one uploaded right here. */
export function CreateBatchModal({
  apiKey,
  open,
  onClose,
  onCreated,
}: {
  apiKey: string;
  open: boolean;
  onClose(): void;
  onCreated(batch: Batch): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const [form] = Form.useForm<Values>();
  const [uploading, setUploading] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const files = useQuery({
    queryKey: ['gateway-files', apiKey],
    queryFn: () => listFiles(apiKey),
    enabled: open,
    retry: false,
  });
  const inputs = (files.data ?? []).filter((f) => f.purpose === 'batch');

  const submit = async (values: Values) => {
    setBusy(true);
    setError(null);
    try {
      const batch = await createBatch(apiKey, {
        input_file_id: values.input_file_id,
        endpoint: values.endpoint,
        ...(values.description?.trim() ? { metadata: { description: values.description.trim() } } : {}),
      });
      form.resetFields();
      onCreated(batch);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('batches.new')}
      okText={t('batches.create')}
      onOk={() => form.submit()}
      okButtonProps={{ loading: busy, 'data-testid': 'batch-submit' }}
      onCancel={() => {
        setError(null);
        onClose();
      }}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        onFinish={submit}
        initialValues={{ endpoint: BATCH_ENDPOINTS[0] }}
        preserve={false}
      >
        <Form.Item label={t('batches.input_file')} extra={t('batches.input_file_hint')} required>
          <Space.Compact style={{ width: '100%' }}>
            <Form.Item
              name="input_file_id"
              noStyle
              rules={[{ required: true, message: t('batches.pick_file') }]}
            >
              <Select
                placeholder={t('batches.pick_file')}
                loading={files.isLoading}
                data-testid="batch-input-file"
                options={inputs.map((f) => ({
                  value: f.id,
                  label: `${f.filename} · ${formatBytes(f.bytes)} · ${f.id}`,
                }))}
              />
            </Form.Item>
            <Button icon={<UploadOutlined />} onClick={() => setUploading(true)}>
              {t('files.upload')}
            </Button>
          </Space.Compact>
        </Form.Item>
        <Form.Item name="endpoint" label={t('batches.endpoint')} rules={[{ required: true }]}>
          <Select options={BATCH_ENDPOINTS.map((e) => ({ value: e, label: e }))} />
        </Form.Item>
        <Form.Item label={t('batches.window')}>
          <Input value="24h" disabled />
        </Form.Item>
        <Form.Item name="description" label={t('common.description')}>
          <Input maxLength={512} placeholder={t('batches.description_placeholder')} />
        </Form.Item>
      </Form>
      {error ? <Alert type="error" showIcon message={error} data-testid="batch-error" /> : null}
      <UploadModal
        apiKey={apiKey}
        open={uploading}
        defaultPurpose="batch"
        onClose={() => setUploading(false)}
        onUploaded={async (f) => {
          setUploading(false);
          await files.refetch();
          form.setFieldValue('input_file_id', f.id);
        }}
      />
    </Modal>
  );
}
