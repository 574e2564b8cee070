import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import pLimit from 'p-limit';
import { AppError } from '../../http/app-error.ts';

const options = {
  algorithm: 2 /* Algorithm.Argon2id: a const enum, unusable under isolatedModules */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

export interface PasswordHasherOptions {
  /** argon2 computations running at once (each holds ~19 MiB and a thread) */
  concurrency: number;
  /** computations allowed to wait for a slot; beyond that the request gets 503 */
  maxQueue: number;
}

/**
 * Argon2 behind a small semaphore: a flood of logins queues for a few slots instead of exhausting
 * CPU and memory, and once the queue is full it is refused with 503 and Retry-After at once.
 */
export function createPasswordHasher({ concurrency, maxQueue }: PasswordHasherOptions) {
  const limit = pLimit(Math.max(1, concurrency));
  /** verified against when the email is unknown, so timing reveals nothing */
  let dummyHash: Promise<string> | undefined;

  function run<T>(work: () => Promise<T>): Promise<T> {
    if (limit.pendingCount >= maxQueue) {
      return Promise.reject(
        new AppError('service_unavailable', 'too many sign-ins in progress: retry shortly', undefined, {
          headers: { 'retry-after': '1' },
        }),
      );
    }
    return limit(work);
  }

  return {
    get active() {
      return limit.activeCount;
    },
    get pending() {
      return limit.pendingCount;
    },
    hash(password: string): Promise<string> {
      return run(() => hash(password, options));
    },
    async verify(passwordHash: string | null, password: string): Promise<boolean> {
      if (!passwordHash) {
        dummyHash ??= hash(randomBytes(16).toString('hex'), options);
        const dummy = await dummyHash;
        await run(() => verify(dummy, password).catch(() => false));
        return false;
      }
      return run(() => verify(passwordHash, password).catch(() => false));
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
