import { monotonicFactory } from 'ulid';

const next = monotonicFactory();
const id = (prefix: string) => `${prefix}_${next().toLowerCase()}`;

/** OpenAI's id shapes: `vs_…`, `vsfb_…`; chunks are ours (`kc_…`, the key lexical indexing uses). */
export const newStoreId = () => id('vs');
export const newBatchId = () => id('vsfb');
export const newChunkId = () => id('kc');
