import { Alert, Form, Input, InputNumber, Modal, Select } from 'antd';
import { useState } from 'react';
import { useErrorText } from '../../components/error-text.ts';
import { useT } from '../../i18n/index.tsx';
import {
  type Ranker,
  SPLITTERS,
  type Splitter,
  type StaticChunking,
  updateStore,
  type VectorStore,
} from '../../lib/knowledge-bases.ts';
import { useKbModels } from './create-store-modal.tsx';

const RANKERS: Ranker[] = ['auto', 'none', 'default-2024-11-15'];

interface Values {
  name: string;
  description: string;
  embedding_model: string;
  splitter: Splitter;
  max_chunk_size_tokens: number;
  chunk_overlap_tokens: number;
  parent_chunk_size_tokens: number | null;
  ranker: Ranker;
  max_num_results: number;
  score_threshold: number;
  rerank_model: string | null;
}

const valuesOf = (s: VectorStore): Values => ({
  name: s.name,
  description: s.description ?? '',
  embedding_model: s.embedding_model,
  splitter: s.chunking_strategy.static.splitter ?? 'recursive',
  max_chunk_size_tokens: s.chunking_strategy.static.max_chunk_size_tokens,
  chunk_overlap_tokens: s.chunking_strategy.static.chunk_overlap_tokens,
  parent_chunk_size_tokens: s.chunking_strategy.static.parent_chunk_size_tokens ?? null,
  ranker: s.retrieval.ranker,
  max_num_results: s.retrieval.max_num_results,
  score_threshold: s.retrieval.score_threshold,
  rerank_model: s.retrieval.rerank_model ?? null,
});

/**
 * A knowledge base's settings: name, embedding model, chunking and retrieval defaults. Other
 * chunking or another embedding model re-index every document (the server decides, and says so).
 */
export function StoreSettingsModal({
  project,
  store,
  open,
  onClose,
  onSaved,
}: {
  project: string;
  store: VectorStore;
  open: boolean;
  onClose(): void;
  onSaved(store: VectorStore, reindexing: boolean): void;
}) {
  const t = useT();
  const errorText = useErrorText();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const models = useKbModels(project, open);
  const splitter = Form.useWatch('splitter', form);

  const save = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      const chunking: StaticChunking = {
        max_chunk_size_tokens: v.max_chunk_size_tokens,
        chunk_overlap_tokens: v.chunk_overlap_tokens,
        splitter: v.splitter,
        ...(v.splitter === 'parent_child' && v.parent_chunk_size_tokens
          ? { parent_chunk_size_tokens: v.parent_chunk_size_tokens }
          : {}),
      };
      const saved = await updateStore(project, store.id, {
        name: v.name.trim(),
        description: v.description.trim() || null,
        embedding_model: v.embedding_model,
        chunking_strategy: { type: 'static', static: chunking },
        retrieval: {
          ranker: v.ranker,
          max_num_results: v.max_num_results,
          score_threshold: v.score_threshold,
          rerank_model: v.rerank_model ?? null,
        },
      });
      onSaved(saved, saved.file_counts.in_progress > store.file_counts.in_progress);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('kb.settings_title', { name: store.name || store.id })}
      okText={t('kb.save')}
      onOk={save}
      okButtonProps={{ loading: busy, 'data-testid': 'kb-settings-submit' }}
      onCancel={onClose}
      destroyOnHidden
      width={640}
    >
      <Alert type="info" showIcon message={t('kb.settings_reindex_hint')} style={{ marginBottom: 16 }} />
      <Form form={form} layout="vertical" disabled={busy} initialValues={valuesOf(store)} preserve={false}>
        <Form.Item name="name" label={t('common.name')} rules={[{ max: 256 }]}>
          <Input data-testid="kb-settings-name" />
        </Form.Item>
        <Form.Item name="description" label={t('kb.description')} rules={[{ max: 512 }]}>
          <Input data-testid="kb-settings-description" />
        </Form.Item>
        <Form.Item
          name="embedding_model"
          label={t('kb.embedding_model')}
          extra={t('kb.embedding_model_change')}
        >
          <Select options={models.embedding} loading={models.loading} data-testid="kb-settings-model" />
        </Form.Item>
        <Form.Item
          name="splitter"
          label={t('kb.splitter')}
          extra={splitter ? t(`kb.splitter_hint.${splitter}`) : null}
        >
          <Select
            options={SPLITTERS.map((s) => ({ value: s, label: t(`kb.splitter.${s}`) }))}
            data-testid="kb-settings-splitter"
          />
        </Form.Item>
        <Form.Item label={t('kb.chunk_size')} required style={{ marginBottom: 0 }}>
          <Form.Item
            name="max_chunk_size_tokens"
            rules={[{ required: true }]}
            style={{ display: 'inline-block', marginRight: 16 }}
          >
            <InputNumber min={100} max={4096} addonAfter={t('kb.tokens')} />
          </Form.Item>
          <Form.Item
            name="chunk_overlap_tokens"
            dependencies={['max_chunk_size_tokens']}
            rules={[
              { required: true },
              ({ getFieldValue }) => ({
                validator: (_, value: number) =>
                  value <= getFieldValue('max_chunk_size_tokens') / 2
                    ? Promise.resolve()
                    : Promise.reject(new Error(t('kb.overlap_too_large'))),
              }),
            ]}
            style={{ display: 'inline-block' }}
          >
            <InputNumber min={0} addonBefore={t('kb.overlap')} />
          </Form.Item>
        </Form.Item>
        {splitter === 'parent_child' ? (
          <Form.Item name="parent_chunk_size_tokens" label={t('kb.parent_size')}>
            <InputNumber min={200} max={16384} addonAfter={t('kb.tokens')} />
          </Form.Item>
        ) : null}
        <Form.Item label={t('kb.retrieval_defaults')} style={{ marginBottom: 0 }}>
          <Form.Item name="ranker" style={{ display: 'inline-block', marginRight: 16, minWidth: 240 }}>
            <Select
              options={RANKERS.map((r) => ({ value: r, label: t(`kb.ranker.${r}`) }))}
              data-testid="kb-settings-ranker"
            />
          </Form.Item>
          <Form.Item name="max_num_results" style={{ display: 'inline-block', marginRight: 16 }}>
            <InputNumber min={1} max={50} addonBefore={t('kb.top_k')} data-testid="kb-settings-topk" />
          </Form.Item>
          <Form.Item name="score_threshold" style={{ display: 'inline-block' }}>
            <InputNumber min={0} max={1} step={0.05} addonBefore={t('kb.threshold')} />
          </Form.Item>
        </Form.Item>
        <Form.Item name="rerank_model" label={t('kb.rerank_model')} extra={t('kb.rerank_model_hint')}>
          <Select
            allowClear
            options={models.rerank}
            loading={models.loading}
            placeholder={t('kb.rerank_model_none')}
            data-testid="kb-settings-rerank"
          />
        </Form.Item>
      </Form>
      {error ? <Alert type="error" showIcon message={error} data-testid="kb-settings-error" /> : null}
    </Modal>
  );
}
