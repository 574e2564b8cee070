import { useQuery } from '@tanstack/react-query';
import { Alert, Form, Input, Modal, Select } from 'antd';
import { useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import {
  createStore,
  listKbModels,
  SPLITTERS,
  type Splitter,
  type VectorStore,
} from '../../lib/knowledge-bases.ts';

/** The embedding and rerank models a knowledge base of the project may use, as select options. */
export function useKbModels(project: string, enabled: boolean) {
  const models = useQuery({
    queryKey: ['kb-models', project],
    queryFn: () => listKbModels(project),
    enabled,
    retry: false,
  });
  const of = (type: 'embedding' | 'rerank') =>
    (models.data ?? []).filter((m) => m.type === type).map((m) => ({ value: m.name, label: m.name }));
  return { loading: models.isLoading, embedding: of('embedding'), rerank: of('rerank') };
}

/** A name and, optionally, the embedding model (default: the first the project may use), splitter and reranker. */
export function CreateStoreModal({
  project,
  open,
  onClose,
  onCreated,
}: {
  project: string;
  open: boolean;
  onClose(): void;
  onCreated(store: VectorStore): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const [name, setName] = useState('');
  const [model, setModel] = useState<string | null>(null);
  const [splitter, setSplitter] = useState<Splitter>('recursive');
  const [rerank, setRerank] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const models = useKbModels(project, open);
  const reset = () => {
    setName('');
    setModel(null);
    setSplitter('recursive');
    setRerank(null);
    setError(null);
  };
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const store = await createStore(project, {
        name: name.trim(),
        ...(model ? { embedding_model: model } : {}),
        ...(splitter !== 'recursive'
          ? {
              chunking_strategy: {
                type: 'static' as const,
                static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400, splitter },
              },
            }
          : {}),
        ...(rerank ? { retrieval: { rerank_model: rerank } } : {}),
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
          <Select
            allowClear
            value={model}
            onChange={(v) => setModel(v ?? null)}
            loading={models.loading}
            options={models.embedding}
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
          <Select
            allowClear
            value={rerank}
            onChange={(v) => setRerank(v ?? null)}
            loading={models.loading}
            options={models.rerank}
            placeholder={t('kb.rerank_model_none')}
            data-testid="kb-create-rerank"
          />
        </Form.Item>
      </Form>
      {error ? <Alert type="error" showIcon message={error} data-testid="kb-create-error" /> : null}
    </Modal>
  );
}
