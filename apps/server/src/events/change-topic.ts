import { z } from 'zod';
import { type Topic, topic } from './bus.ts';

/** "Something changed; re-read it": the row's id when one row changed, and the replica that changed it. */
export const changeMessage = z.object({
  id: z.string().min(1).max(200).optional(),
  origin: z.string().max(100).optional(),
});

export type ChangeMessage = z.infer<typeof changeMessage>;

/** A topic whose messages say that cached rows changed (see replicated-cache.ts). */
export const changeTopic = (name: string): Topic<ChangeMessage> => topic(name, changeMessage);
