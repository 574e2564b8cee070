import { describe, expect, it } from 'vitest';
import { CircuitBreaker, DEFAULT_BREAKER } from './circuit-breaker.ts';

const opts = {
  ...DEFAULT_BREAKER,
  failureThreshold: 3,
  cooldownMs: 1_000,
  minRequests: 10,
  windowMs: 10_000,
};

describe('circuit breaker', () => {
  it('opens after consecutive failures and refuses calls during the cool-down', () => {
    const b = new CircuitBreaker('prv', 'm', opts);
    for (let i = 0; i < 3; i++) {
      b.acquire(0);
      b.failure(0);
    }
    expect(b.state).toBe('open');
    expect(b.available(500)).toBe(false);
    expect(b.retryInMs(500)).toBe(500);
  });

  it('lets one half-open probe through after the cool-down; success closes, failure reopens', () => {
    const b = new CircuitBreaker('prv', 'm', opts);
    for (let i = 0; i < 3; i++) {
      b.acquire(0);
      b.failure(0);
    }
    expect(b.available(1_000)).toBe(true);
    b.acquire(1_000);
    expect(b.state).toBe('half_open');
    expect(b.available(1_000)).toBe(false);
    b.failure(1_100);
    expect(b.state).toBe('open');
    expect(b.available(1_500)).toBe(false);
    b.acquire(2_100);
    b.success(2_100);
    expect(b.state).toBe('closed');
    expect(b.consecutiveFailures).toBe(0);
  });

  it('opens on the error rate over the window, not only on a run of failures', () => {
    const b = new CircuitBreaker('prv', 'm', opts);
    for (let i = 0; i < 10; i++) {
      b.acquire(i);
      if (i % 2 === 0) b.failure(i);
      else b.success(i);
    }
    expect(b.state).toBe('closed');
    b.acquire(10);
    b.failure(10);
    expect(b.state).toBe('open');
    expect(b.errorRate(10)).toBeCloseTo(6 / 11);
  });

  it('counts outstanding calls and ignores neutral endings', () => {
    const b = new CircuitBreaker('prv', 'm', opts);
    b.acquire(0);
    b.acquire(0);
    expect(b.outstanding).toBe(2);
    b.neutral();
    b.success(0);
    expect(b.outstanding).toBe(0);
    expect(b.state).toBe('closed');
  });
});
