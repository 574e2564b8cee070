import { InboxOutlined } from '@ant-design/icons';
import { Alert, Modal, Progress, Typography, Upload } from 'antd';
import { useRef, useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import { formatBytes } from '../../lib/gateway-files.ts';
import { uploadDocument, type VectorStoreFile } from '../../lib/knowledge-bases.ts';

/**
 * Adds a document to a knowledge base: uploaded (into the project's /v1/files, purpose
 * `assistants`) with a progress bar and added in one request; ingestion runs after.
 */
export function AddFileModal({
  project,
  storeId,
  open,
  onClose,
  onAdded,
}: {
  project: string;
  storeId: string;
  open: boolean;
  onClose(): void;
  onAdded(file: VectorStoreFile): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  const reset = () => {
    setFile(null);
    setProgress(null);
    setError(null);
  };
  const close = () => {
    abort.current?.abort();
    reset();
    onClose();
  };
  const start = async () => {
    setError(null);
    try {
      if (!file) return;
      abort.current = new AbortController();
      setProgress(0);
      const added = await uploadDocument(project, storeId, file, {
        onProgress: setProgress,
        signal: abort.current.signal,
      });
      reset();
      onAdded(added);
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
      title={t('kb.add_file_title')}
      okText={t('kb.add_file')}
      onOk={start}
      okButtonProps={{ disabled: !file, loading: busy, 'data-testid': 'kb-add-file-start' }}
      onCancel={close}
      maskClosable={!busy}
      destroyOnHidden
    >
      <Upload.Dragger
        multiple={false}
        maxCount={1}
        showUploadList={false}
        disabled={busy}
        beforeUpload={(f) => {
          setFile(f);
          setError(null);
          return false; // held here: the upload starts with the button, with progress
        }}
        data-testid="kb-upload-input"
      >
        <p className="ant-upload-drag-icon">
          <InboxOutlined />
        </p>
        <p className="ant-upload-text">
          {file ? (
            <Typography.Text strong data-testid="kb-upload-file-name">
              {file.name} · {formatBytes(file.size)}
            </Typography.Text>
          ) : (
            t('kb.drop_hint')
          )}
        </p>
        <p className="ant-upload-hint">{t('kb.drop_formats')}</p>
      </Upload.Dragger>
      {busy ? (
        <Progress
          percent={Math.floor((progress ?? 0) * 100)}
          status="active"
          style={{ marginTop: 16 }}
          data-testid="kb-upload-progress"
        />
      ) : null}
      {error ? <Alert type="error" showIcon message={error} style={{ marginTop: 16 }} /> : null}
    </Modal>
  );
}
