import { InboxOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Divider, Modal, Progress, Select, Typography, Upload } from 'antd';
import { useRef, useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import { formatBytes, listFiles, uploadFile } from '../../lib/gateway-files.ts';
import { attachFile, type VectorStoreFile } from '../../lib/gateway-knowledge.ts';

/**
 * Adds a document to a store: a new one is uploaded to /v1/files (purpose `assistants`) with a
 * progress bar, then attached; or a file already in /v1/files is attached. Ingestion runs after.
 */
export function AddFileModal({
  apiKey,
  storeId,
  open,
  onClose,
  onAdded,
}: {
  apiKey: string;
  storeId: string;
  open: boolean;
  onClose(): void;
  onAdded(file: VectorStoreFile): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const [file, setFile] = useState<File | null>(null);
  const [existing, setExisting] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const uploaded = useQuery({
    queryKey: ['gateway-files', apiKey],
    queryFn: () => listFiles(apiKey),
    enabled: open,
    retry: false,
  });

  const reset = () => {
    setFile(null);
    setExisting(null);
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
      let fileId = existing;
      if (file) {
        abort.current = new AbortController();
        setProgress(0);
        fileId = (
          await uploadFile(apiKey, file, {
            purpose: 'assistants',
            onProgress: setProgress,
            signal: abort.current.signal,
          })
        ).id;
      }
      if (!fileId) return;
      const added = await attachFile(apiKey, storeId, fileId);
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
      okButtonProps={{ disabled: !file && !existing, loading: busy, 'data-testid': 'kb-add-file-start' }}
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
          setExisting(null);
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
      <Divider plain>{t('common.or')}</Divider>
      <Select
        style={{ width: '100%' }}
        allowClear
        showSearch
        disabled={busy}
        placeholder={t('kb.pick_existing')}
        value={existing}
        onChange={(v) => {
          setExisting(v ?? null);
          if (v) setFile(null);
        }}
        optionFilterProp="label"
        loading={uploaded.isLoading}
        options={(uploaded.data ?? [])
          .filter((f) => !f.purpose.startsWith('batch'))
          .map((f) => ({ value: f.id, label: `${f.filename} · ${formatBytes(f.bytes)} · ${f.id}` }))}
        data-testid="kb-pick-existing"
      />
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
