import { randomBytes } from 'node:crypto';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
  tinyWav,
  wavSeconds,
} from '@maas/testkit';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  createProvider,
  issueKey,
  openai,
  sleep,
  usageFor,
  v1,
} from './support/gateway-setup.ts';

/** /v1/audio through the gateway with the stock openai SDK: speech per character, transcripts per second. */
let ts: TestServer;
let upstream: FakeUpstream;
let client: OpenAI;
let key: string;

const PERIOD = new Date().toISOString().slice(0, 7);
const SPEECH_PER_MILLION = 15; // USD per million characters: 15,000 nanos a character
const AUDIO_PER_SECOND = 0.0001; // USD: 100,000 nanos a second

async function withId<T>(call: { withResponse(): Promise<{ data: T; response: Response }> }) {
  const { data, response } = await call.withResponse();
  return { data, response, id: response.headers.get('x-request-id')! };
}

async function price(modelId: string, body: Record<string, unknown>) {
  const res = await ts.admin.post('/api/v1/prices', {
    model_id: modelId,
    currency: 'USD',
    input_per_million: 0,
    output_per_million: 0,
    effective_from: new Date(Date.now() - 60_000).toISOString(),
    ...body,
  });
  expect(res.status).toBe(201);
}

/** A multipart request by hand (for bodies the SDK would not send). */
async function postForm(path: string, fields: Record<string, string>, file?: { data: Buffer; name: string }) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([new Uint8Array(file.data)], { type: 'audio/wav' }), file.name);
  const res = await fetch(`${ts.url}/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as { error: Record<string, unknown> } };
}

beforeAll(async () => {
  ts = await startTestServer();
  upstream = await startFakeUpstream();
  const provider = await createProvider(ts, { name: 'fake', base_url: upstream.url });
  const speaker = await createModel(ts, {
    name: 'speaker',
    type: 'tts',
    targets: [{ provider_id: provider, upstream_model: 'fake-tts' }],
  });
  const listener = await createModel(ts, {
    name: 'listener',
    type: 'stt',
    targets: [{ provider_id: provider, upstream_model: 'fake-whisper' }],
  });
  await price(speaker, { characters_per_million: SPEECH_PER_MILLION });
  await price(listener, { audio_per_second: AUDIO_PER_SECOND });
  key = (await issueKey(ts, { name: 'audio' })).key;
  client = openai(ts, key);
});

afterAll(async () => {
  await ts?.close();
  await upstream?.close();
});

describe('speech', () => {
  it('streams the audio back in the upstream content type and bills each character', async () => {
    const input = 'Hello from maas, spoken by a fake voice — 你好!';
    const { response, id } = await withId(
      client.audio.speech.create({ model: 'speaker', voice: 'alloy', input, response_format: 'wav' }),
    );
    expect(response.headers.get('content-type')).toBe('audio/wav');
    const audio = Buffer.from(await response.arrayBuffer());
    expect(audio.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wavSeconds(audio)).toBeCloseTo(input.length / 15, 2);
    const sent = await upstream.waitForRequest((r) => r.path === '/v1/audio/speech');
    expect(sent.body).toMatchObject({ model: 'fake-tts', voice: 'alloy', input });
    const characters = [...input].length;
    expect(await usageFor(ts, id)).toMatchObject({
      endpoint: 'audio.speech',
      outcome: 'success',
      characters,
      costNanos: characters * 15_000,
    });
  });

  it('refuses bad speech bodies with 400s naming the field', async () => {
    const bad = async (body: Record<string, unknown>, param: string) => {
      const res = await v1(ts, key, '/audio/speech', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
    };
    await bad({ model: 'speaker', voice: 'alloy' }, 'input');
    await bad({ model: 'speaker', voice: 'alloy', input: 'x'.repeat(4097) }, 'input');
    await bad({ model: 'speaker', input: 'hi' }, 'voice');
    await bad({ model: 'speaker', voice: 'alloy', input: 'hi', speed: 9 }, 'speed');
    await bad({ model: 'listener', voice: 'alloy', input: 'hi' }, 'model');
  });
});

describe('transcriptions and translations', () => {
  it('transcribes a real WAV (verbose_json) and bills the seconds the upstream reports', async () => {
    const { data, id } = await withId(
      client.audio.transcriptions.create({
        model: 'listener',
        file: await toFile(tinyWav(3.5), 'speech.wav', { type: 'audio/wav' }),
        response_format: 'verbose_json',
        language: 'en',
      }),
    );
    expect(data).toMatchObject({ duration: 3.5, text: expect.stringContaining('speech.wav') });
    const sent = await upstream.waitForRequest((r) => r.path === '/v1/audio/transcriptions');
    expect(sent.body).toMatchObject({
      model: 'fake-whisper',
      language: 'en',
      response_format: 'verbose_json',
    });
    expect(sent.body.file).toMatchObject({ filename: 'speech.wav', type: 'audio/wav' });
    expect(await usageFor(ts, id)).toMatchObject({
      endpoint: 'audio.transcriptions',
      audioMs: 3500,
      costNanos: 350_000, // 3.5 s × 100,000 nanos
    });
  });

  it('passes json, text, srt and vtt through, billed by the duration read from the file', async () => {
    const file = async () => toFile(tinyWav(2), 'two.wav', { type: 'audio/wav' });
    const json = await withId(client.audio.transcriptions.create({ model: 'listener', file: await file() }));
    expect(json.data.text).toContain('two.wav');
    expect(await usageFor(ts, json.id)).toMatchObject({ audioMs: 2000, costNanos: 200_000 });
    const text = await client.audio.transcriptions.create({
      model: 'listener',
      file: await file(),
      response_format: 'text',
    });
    expect(text).toContain('fake transcript of two.wav');
    const srt = await client.audio.transcriptions.create({
      model: 'listener',
      file: await file(),
      response_format: 'srt',
    });
    expect(srt).toContain('00:00:00,000 --> 00:00:02,000');
    const vtt = await withId(
      client.audio.translations.create({ model: 'listener', file: await file(), response_format: 'vtt' }),
    );
    expect(vtt.response.headers.get('content-type')).toContain('text/vtt');
    expect(String(vtt.data)).toMatch(/^WEBVTT/);
    expect(await usageFor(ts, vtt.id)).toMatchObject({ endpoint: 'audio.translations', audioMs: 2000 });
  });

  it('resends the whole upload when an upstream fails and a retry takes it', async () => {
    upstream.clearRequests();
    upstream.addFault({ path: '/v1/audio/transcriptions', status: 503, times: 1 });
    const wav = tinyWav(1.25);
    const { data, id } = await withId(
      client.audio.transcriptions.create({
        model: 'listener',
        file: await toFile(wav, 'retry.wav', { type: 'audio/wav' }),
        response_format: 'verbose_json',
      }),
    );
    expect(data.duration).toBe(1.25);
    const sent = upstream.requests.filter((r) => r.path === '/v1/audio/transcriptions');
    expect(sent).toHaveLength(2);
    for (const r of sent) expect(Buffer.compare(r.body.file.data, wav)).toBe(0);
    expect(await usageFor(ts, id)).toMatchObject({ attempts: 2, outcome: 'success', audioMs: 1250 });
  });

  it('refuses a missing file, a file that is not audio, a wrong model type and bad fields (400)', async () => {
    upstream.clearRequests();
    const missing = await postForm('/audio/transcriptions', { model: 'listener' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ param: 'file' });
    const noise = await postForm(
      '/audio/transcriptions',
      { model: 'listener' },
      { data: randomBytes(4096), name: 'noise.bin' },
    );
    expect(noise.status).toBe(400);
    expect(noise.body.error).toMatchObject({ param: 'file', type: 'invalid_request_error' });
    const wrongType = await postForm(
      '/audio/transcriptions',
      { model: 'speaker' },
      { data: tinyWav(1), name: 'a.wav' },
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toMatchObject({ param: 'model' });
    const badFormat = await postForm(
      '/audio/translations',
      { model: 'listener', response_format: 'xml' },
      { data: tinyWav(1), name: 'a.wav' },
    );
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error).toMatchObject({ param: 'response_format' });
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuses an upload over 25 MiB with 413 and sends nothing upstream', async () => {
    upstream.clearRequests();
    const err = await client.audio.transcriptions
      .create({
        model: 'listener',
        file: await toFile(Buffer.concat([tinyWav(1), Buffer.alloc(25 * 1024 * 1024)]), 'long.wav', {
          type: 'audio/wav',
        }),
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    await sleep(100);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('bills and tenants', () => {
  it('shows characters and audio seconds in usage and prices them exactly on the bill', async () => {
    const usage = await ts.admin.get('/api/v1/usage?group_by=model&granularity=hour');
    const byModel = (m: string) => usage.body.data.find((r: { model: string }) => r.model === m);
    expect(byModel('listener')).toMatchObject({ audio_seconds: 12.75, cost: 0.001275 });
    const bill = await ts.admin.post('/api/v1/bills', { period: PERIOD });
    expect(bill.status).toBe(200);
    const line = (m: string) => bill.body.lines.find((l: { model: string }) => l.model === m);
    const spoken = [...'Hello from maas, spoken by a fake voice — 你好!'].length;
    expect(line('speaker')).toMatchObject({ characters: spoken, cost: (spoken * 15_000) / 1e9 });
    expect(line('listener')).toMatchObject({ audio_seconds: 12.75, cost: 0.001275 });
  });

  it("gets 404 for another org's audio model, with nothing sent upstream", async () => {
    const org = await ts.admin.post('/api/v1/orgs', { name: 'Other audio org' });
    const other = ts.client();
    await other.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
    const provider = await createProvider(ts, { name: 'theirs', base_url: upstream.url }, other);
    await createModel(
      ts,
      { name: 'their-voice', type: 'tts', targets: [{ provider_id: provider, upstream_model: 'x' }] },
      other,
    );
    upstream.clearRequests();
    const res = await v1(ts, key, '/audio/speech', { model: 'their-voice', voice: 'alloy', input: 'hi' });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'model_not_found' });
    const form = await postForm(
      '/audio/transcriptions',
      { model: 'their-voice' },
      { data: tinyWav(1), name: 'a.wav' },
    );
    expect(form.status).toBe(404);
    expect(upstream.requests).toHaveLength(0);
  });
});
