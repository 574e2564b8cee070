import { ClearOutlined, KeyOutlined, SendOutlined, StopOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Input, Row, Space, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useErrorText } from '../components/error-text.ts';
import { Page } from '../components/page.tsx';
import { EmptyState } from '../components/states.tsx';
import { useT } from '../i18n/index.tsx';
import { type ChatMessage, chatCompletion, listGatewayModels } from '../lib/chat-stream.ts';
import { loadPlaygroundKey, type PlaygroundKey, savePlaygroundKey } from '../lib/playground-key.ts';
import { KeyPicker } from './playground/key-picker.tsx';
import { MessageView, type ReplyStats, type Turn } from './playground/message-view.tsx';
import { type Params, SettingsPanel } from './playground/settings-panel.tsx';
import { usePriceOf } from './playground/use-price.ts';

export default function PlaygroundPage() {
  const t = useT();
  const errorText = useErrorText();
  const [key, setKey] = useState<PlaygroundKey | null>(loadPlaygroundKey);
  const [model, setModel] = useState<string | undefined>();
  const [params, setParams] = useState<Params>({
    system: '',
    temperature: 0.7,
    top_p: 1,
    max_tokens: 512,
    stream: true,
  });
  const [turns, setTurns] = useState<Turn[]>([]);
  const [input, setInput] = useState('');
  const abort = useRef<AbortController | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const models = useQuery({
    queryKey: ['gateway-models', key?.secret],
    queryFn: () => listGatewayModels(key!.secret),
    enabled: key !== null,
    retry: false,
  });
  const busy = turns.some((x) => x.streaming);

  useEffect(() => {
    if (!model && models.data?.length) setModel(models.data[0]);
  }, [models.data, model]);
  useEffect(() => {
    // follow the reply as it streams (newer browsers return a promise from scrollIntoView: not a cleanup)
    if (turns.length > 0) void bottom.current?.scrollIntoView({ block: 'end' });
  }, [turns]);

  const priceOf = usePriceOf();

  const send = async () => {
    const text = input.trim();
    if (!text || !key || !model || busy) return;
    const history: ChatMessage[] = [
      ...(params.system.trim() ? [{ role: 'system' as const, content: params.system.trim() }] : []),
      ...turns.filter((x) => !x.error).map((x) => ({ role: x.role, content: x.content })),
      { role: 'user', content: text },
    ];
    setInput('');
    const id = Date.now();
    setTurns((all) => [
      ...all,
      { id, role: 'user', content: text },
      { id: id + 1, role: 'assistant', content: '', streaming: true },
    ]);
    const update = (fn: (turn: Turn) => Turn) =>
      setTurns((all) => all.map((x, i) => (i === all.length - 1 ? fn(x) : x)));
    abort.current = new AbortController();
    try {
      const result = await chatCompletion(
        key.secret,
        {
          model,
          messages: history,
          temperature: params.temperature,
          top_p: params.top_p,
          ...(params.max_tokens ? { max_tokens: params.max_tokens } : {}),
          stream: params.stream,
        },
        (delta) => update((x) => ({ ...x, content: x.content + delta })),
        abort.current.signal,
      );
      const price = priceOf(model);
      const usage = result.usage;
      const stats: ReplyStats = {
        model,
        promptTokens: usage?.prompt_tokens ?? null,
        completionTokens: usage?.completion_tokens ?? null,
        cost:
          price && usage
            ? (usage.prompt_tokens * price.input_per_million +
                usage.completion_tokens * price.output_per_million) /
              1e6
            : null,
        currency: price?.currency ?? 'USD',
        ttftMs: result.ttftMs,
        latencyMs: result.latencyMs,
        target: result.target,
      };
      update((x) => ({ ...x, content: result.content, streaming: false, stats }));
    } catch (err) {
      if ((err as Error).name === 'AbortError')
        update((x) => ({ ...x, streaming: false, error: x.content ? undefined : t('playground.stopped') }));
      else update((x) => ({ ...x, streaming: false, error: errorText(err) }));
    } finally {
      abort.current = null;
    }
  };

  if (!key) {
    return (
      <Page id="playground" title={t('nav.playground')} subTitle={t('playground.subtitle')}>
        <KeyPicker onPicked={setKey} />
      </Page>
    );
  }

  const keyRefused =
    models.error instanceof ApiError && (models.error.status === 401 || models.error.status === 403);
  return (
    <Page
      id="playground"
      title={t('nav.playground')}
      subTitle={t('playground.subtitle')}
      extra={[
        <Typography.Text key="k" type="secondary">
          <KeyOutlined /> {key.name}
        </Typography.Text>,
        <Button
          key="change"
          size="small"
          onClick={() => {
            savePlaygroundKey(null);
            setKey(null);
            setModel(undefined);
          }}
        >
          {t('playground.change_key')}
        </Button>,
      ]}
    >
      {keyRefused ? (
        <Alert
          type="error"
          showIcon
          style={{ marginBottom: 16 }}
          message={t('playground.key_refused')}
          description={errorText(models.error)}
        />
      ) : null}
      <Row gutter={16}>
        <Col xs={24} lg={7}>
          <SettingsPanel
            models={models.data}
            modelsLoading={models.isLoading}
            model={model}
            onModel={setModel}
            params={params}
            onParams={setParams}
          />
        </Col>
        <Col xs={24} lg={17}>
          <Card
            size="small"
            title={model ? t('playground.chat_with', { model }) : t('playground.chat')}
            extra={
              <Button
                size="small"
                icon={<ClearOutlined />}
                disabled={busy || turns.length === 0}
                onClick={() => setTurns([])}
              >
                {t('playground.clear')}
              </Button>
            }
            styles={{
              body: {
                display: 'flex',
                flexDirection: 'column',
                height: 'calc(100vh - 250px)',
                minHeight: 420,
              },
            }}
          >
            <div style={{ flex: 1, overflowY: 'auto', padding: '8px 4px' }} data-testid="chat-log">
              {turns.length === 0 ? (
                models.data?.length === 0 ? (
                  <EmptyState
                    title={t('playground.no_models')}
                    hint={<Link to="/models">{t('playground.no_models_hint')}</Link>}
                  />
                ) : (
                  <EmptyState title={t('playground.empty')} hint={t('playground.empty_hint')} />
                )
              ) : (
                turns.map((turn) => <MessageView key={turn.id} turn={turn} />)
              )}
              <div ref={bottom} />
            </div>
            <Space.Compact style={{ width: '100%', marginTop: 8 }}>
              <Input.TextArea
                value={input}
                onChange={(e) => setInput(e.target.value)}
                autoSize={{ minRows: 1, maxRows: 6 }}
                placeholder={t('playground.input_placeholder')}
                data-testid="playground-input"
                onPressEnter={(e) => {
                  if (!e.shiftKey) {
                    e.preventDefault();
                    void send();
                  }
                }}
              />
              {busy ? (
                <Button
                  danger
                  icon={<StopOutlined />}
                  onClick={() => abort.current?.abort()}
                  style={{ height: 'auto' }}
                >
                  {t('playground.stop')}
                </Button>
              ) : (
                <Button
                  type="primary"
                  icon={<SendOutlined />}
                  disabled={!input.trim() || !model}
                  onClick={() => void send()}
                  style={{ height: 'auto' }}
                  data-testid="playground-send"
                >
                  {t('playground.send')}
                </Button>
              )}
            </Space.Compact>
          </Card>
        </Col>
      </Row>
    </Page>
  );
}
