export { capacityOf } from './capacity.ts';
export { placeReplicas } from './place-replicas.ts';
export type * from './types.ts';
