import OpenAI from 'openai';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { eventBody } from './deliveries.ts';
import { newSigningSecret, redactSecrets, signMessage } from './signing.ts';

const unwrap = (secret: string, body: string, headers: Record<string, string>) =>
  new OpenAI({ apiKey: 'x', webhookSecret: secret }).webhooks.unwrap(body, headers);

describe('Standard Webhooks signing', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const s = newSigningSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(s);
  });

  it('signs so that the openai SDK and the standardwebhooks package both verify', async () => {
    const secret = newSigningSecret();
    const body = eventBody('evt_1', 'batch.completed', new Date(), { id: 'batch_1' });
    const headers = signMessage([secret], 'whd_1', new Date(), body);
    expect(headers['webhook-id']).toBe('whd_1');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const event = await unwrap(secret, body, headers);
    expect(event).toMatchObject({
      id: 'evt_1',
      object: 'event',
      type: 'batch.completed',
      data: { id: 'batch_1' },
    });
    expect(typeof (event as { created_at: number }).created_at).toBe('number');
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs with every secret, so either side of a rotation verifies', async () => {
    const [a, b] = [newSigningSecret(), newSigningSecret()];
    const body = '{"id":"evt_2","object":"event","type":"webhook.test","created_at":1,"data":{}}';
    const headers = signMessage([b, a], 'whd_2', new Date(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    await expect(unwrap(a, body, headers)).resolves.toBeTruthy();
    await expect(unwrap(b, body, headers)).resolves.toBeTruthy();
    await expect(unwrap(newSigningSecret(), body, headers)).rejects.toThrow(/signature/);
    await expect(unwrap(a, `${body} `, headers)).rejects.toThrow(/signature/);
  });

  it('is refused by the SDK when the timestamp is stale', async () => {
    const secret = newSigningSecret();
    const headers = signMessage([secret], 'whd_3', new Date(Date.now() - 600_000), '{}');
    await expect(unwrap(secret, '{}', headers)).rejects.toThrow(/too old/);
  });

  it('redacts secret shapes from what a receiver answered', () => {
    const secret = newSigningSecret();
    const text = `echo ${secret} and ${secret.slice(6)} sk-abcdef123456 Bearer abc.def v1,${'A'.repeat(44)}`;
    const out = redactSecrets(text, [secret]);
    expect(out).not.toContain(secret.slice(6));
    expect(out).not.toContain('sk-abcdef123456');
    expect(out).not.toContain('abc.def');
    expect(out).not.toContain('AAAAAAAAAAAAAAAAAAAA');
  });
});
