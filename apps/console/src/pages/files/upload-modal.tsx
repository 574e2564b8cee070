import { InboxOutlined } from '@ant-design/icons';
import { Alert, Form, Modal, Progress, Select, Typography, Upload } from 'antd';
import { useRef, useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import { type FileObject, formatBytes, UPLOAD_PURPOSES, uploadFile } from '../../lib/gateway-files.ts';

const EXPIRY_OPTIONS = [0, 86_400, 7 * 86_400, 30 * 86_400];

/** Picks one file and uploads it to /v1/files with a progress bar; cancel aborts the upload. */
export function UploadModal({
  apiKey,
  open,
  defaultPurpose = 'batch',
  onClose,
  onUploaded,
}: {
  apiKey: string;
  open: boolean;
  defaultPurpose?: string;
  onClose(): void;
  onUploaded(file: FileObject): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const [file, setFile] = useState<File | null>(null);
  const [purpose, setPurpose] = useState(defaultPurpose);
  const [expiry, setExpiry] = useState(0);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  const reset = () => {
    setFile(null);
    setProgress(null);
    setError(null);
    setPurpose(defaultPurpose);
    setExpiry(0);
  };
  const close = () => {
    abort.current?.abort();
    reset();
    onClose();
  };
  const start = async () => {
    if (!file) return;
    abort.current = new AbortController();
    setError(null);
    setProgress(0);
    try {
      const uploaded = await uploadFile(apiKey, file, {
        purpose,
        expiresAfterS: expiry || undefined,
        onProgress: setProgress,
        signal: abort.current.signal,
      });
      reset();
      onUploaded(uploaded);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') setError(errorText(err));
      setProgress(null);
    } finally {
      abort.current = null;
    }
  };
  const busy = progress !== null;

  return (
    <Modal
      open={open}
      title={t('files.upload_title')}
      okText={t('files.upload')}
      onOk={start}
      okButtonProps={{ disabled: !file, loading: busy, 'data-testid': 'upload-start' }}
      onCancel={close}
      cancelText={busy ? t('files.upload_cancel') : undefined}
      maskClosable={!busy}
      destroyOnHidden
    >
      <Form layout="vertical" disabled={busy}>
        <Form.Item label={t('files.purpose')}>
          <Select
            value={purpose}
            onChange={setPurpose}
            options={UPLOAD_PURPOSES.map((p) => ({ value: p, label: p }))}
            data-testid="upload-purpose"
          />
        </Form.Item>
        <Form.Item label={t('files.expires')} extra={t('files.expires_hint')}>
          <Select
            value={expiry}
            onChange={setExpiry}
            options={EXPIRY_OPTIONS.map((s) => ({
              value: s,
              label: s === 0 ? t('files.expiry_default') : t('files.expiry_days', { days: s / 86_400 }),
            }))}
          />
        </Form.Item>
        <Upload.Dragger
          multiple={false}
          maxCount={1}
          showUploadList={false}
          beforeUpload={(f) => {
            setFile(f);
            setError(null);
            return false; // held here: the upload starts with the button, with progress
          }}
          data-testid="upload-input"
        >
          <p className="ant-upload-drag-icon">
            <InboxOutlined />
          </p>
          <p className="ant-upload-text">
            {file ? (
              <Typography.Text strong data-testid="upload-file-name">
                {file.name} · {formatBytes(file.size)}
              </Typography.Text>
            ) : (
              t('files.drop_hint')
            )}
          </p>
          <p className="ant-upload-hint">{t('files.drop_limits')}</p>
        </Upload.Dragger>
      </Form>
      {busy ? (
        <Progress
          percent={Math.floor((progress ?? 0) * 100)}
          status="active"
          style={{ marginTop: 16 }}
          data-testid="upload-progress"
        />
      ) : null}
      {error ? <Alert type="error" showIcon message={error} style={{ marginTop: 16 }} /> : null}
    </Modal>
  );
}
