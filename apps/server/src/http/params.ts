import { z } from 'zod';

/** Path ids are opaque, type-prefixed strings; anything else cannot name a resource. */
export const idParams = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'not a valid id'),
});
