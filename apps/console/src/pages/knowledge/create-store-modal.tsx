import { useQuery } from '@tanstack/react-query';
import { Alert, AutoComplete, Form, Input, Modal, Select } from 'antd';
import { useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import {
  createStore,
  listKeyModels,
  SPLITTERS,
  type Splitter,
  type VectorStore,
} from '../../lib/gateway-knowledge.ts';

/** A name and, optionally, the embedding model (default: the first embedding model the key may use). */
export function CreateStoreModal({
  apiKey,
  open,
  onClose,
  onCreated,
}: {
  apiKey: string;
  open: boolean;
  onClose(): void;
  onCreated(store: VectorStore): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const [name, setName] = useState('');
  const [model, setModel] = useState('');
  const [splitter, setSplitter] = useState<Splitter>('recursive');
  const [rerank, setRerank] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const models = useQuery({
    queryKey: ['kb-key-models', apiKey],
    queryFn: () => listKeyModels(apiKey),
    enabled: open,
    retry: false,
  });
  const reset = () => {
    setName('');
    setModel('');
    setSplitter('recursive');
    setRerank('');
    setError(null);
  };
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const store = await createStore(apiKey, {
        name: name.trim(),
        ...(model.trim() ? { embedding_model: model.trim() } : {}),
        ...(splitter !== 'recursive'
          ? {
              chunking_strategy: {
                type: 'static' as const,
                static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400, splitter },
              },
            }
          : {}),
        ...(rerank.trim() ? { retrieval: { rerank_model: rerank.trim() } } : {}),
      });
      reset();
      onCreated(store);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('kb.create_title')}
      okText={t('kb.create')}
      onOk={submit}
      okButtonProps={{ disabled: !name.trim(), loading: busy, 'data-testid': 'kb-create-submit' }}
      onCancel={() => {
        reset();
        onClose();
      }}
      destroyOnHidden
    >
      <Form layout="vertical" disabled={busy}>
        <Form.Item label={t('common.name')} required>
          <Input
            value={name}
            maxLength={256}
            onChange={(e) => setName(e.target.value)}
            onPressEnter={() => name.trim() && void submit()}
            data-testid="kb-create-name"
            autoFocus
          />
        </Form.Item>
        <Form.Item label={t('kb.embedding_model')} extra={t('kb.embedding_model_hint')}>
          <AutoComplete
            value={model}
            onChange={setModel}
            options={(models.data ?? []).map((m) => ({ value: m.id }))}
            filterOption={(input, option) => String(option?.value ?? '').includes(input)}
            placeholder={t('kb.embedding_model_default')}
            data-testid="kb-create-model"
          />
        </Form.Item>
        <Form.Item label={t('kb.splitter')} extra={t(`kb.splitter_hint.${splitter}`)}>
          <Select
            value={splitter}
            onChange={setSplitter}
            options={SPLITTERS.map((s) => ({ value: s, label: t(`kb.splitter.${s}`) }))}
            data-testid="kb-create-splitter"
          />
        </Form.Item>
        <Form.Item label={t('kb.rerank_model')} extra={t('kb.rerank_model_hint')}>
          <AutoComplete
            value={rerank}
            onChange={setRerank}
            options={(models.data ?? []).map((m) => ({ value: m.id }))}
            filterOption={(input, option) => String(option?.value ?? '').includes(input)}
            placeholder={t('kb.rerank_model_none')}
            data-testid="kb-create-rerank"
          />
        </Form.Item>
      </Form>
      {error ? <Alert type="error" showIcon message={error} data-testid="kb-create-error" /> : null}
    </Modal>
  );
}
