import { randomBytes } from 'node:crypto';

/** OpenAI-style ids of Responses API items: `msg_…`, `fc_…`, `fco_…`, `rs_…`. */
export const itemId = (prefix: 'msg' | 'fc' | 'fco' | 'rs') => `${prefix}_${randomBytes(16).toString('hex')}`;
