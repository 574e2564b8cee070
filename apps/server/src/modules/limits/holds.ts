import type { LimitPolicy } from './policy.ts';

/**
 * Quota and budget held for long work that was admitted as a whole (a batch, at its estimate):
 * every other request sees the policy's quota and budget less what is held, so interactive traffic
 * cannot spend what a running batch was promised. The work's own requests draw on their hold
 * instead (they pass its id and see the others' holds only). A hold shrinks as its work proceeds
 * and goes when it ends; the owner of the work keeps the book current (holds are not counters: a
 * restart rebuilds them from the owner's rows).
 */
export interface Hold {
  /** the work's id (a batch id) */
  id: string;
  orgId: string;
  projectId: string;
  keyId: string;
  /** the user whose key runs the work (user limits count it) */
  userId?: string | null;
  /** the canonical model name the work runs on */
  model: string;
  tokens: number;
  /** money in millionths of the price currency */
  costMicros: number;
}

/** What one policy's period counters are held for, besides the settled usage. */
export interface Held {
  tokens: number;
  costMicros: number;
}

const appliesTo = (p: LimitPolicy, h: Hold): boolean =>
  p.orgId === h.orgId &&
  (p.model === null || p.model === h.model) &&
  (p.scope === 'org'
    ? true
    : p.scope === 'project'
      ? p.scopeId === h.projectId
      : p.scope === 'user'
        ? p.scopeId === h.userId
        : p.scopeId === h.keyId);

export function createHoldBook() {
  let holds: Hold[] = [];
  return {
    get size() {
      return holds.length;
    },
    /** Replaces the whole book (the owner read its rows again). */
    replace(next: readonly Hold[]): void {
      holds = next.filter((h) => h.tokens > 0 || h.costMicros > 0);
    },
    list: (): readonly Hold[] => holds,
    /** What is held against `policy` by work other than `except`. */
    heldFor(policy: LimitPolicy, except: string | null): Held {
      let tokens = 0;
      let costMicros = 0;
      for (const h of holds) {
        if (h.id === except || !appliesTo(policy, h)) continue;
        tokens += h.tokens;
        costMicros += h.costMicros;
      }
      return { tokens, costMicros };
    },
  };
}

export type HoldBook = ReturnType<typeof createHoldBook>;
