export {
  type AddressClass,
  classifyAddress,
  isMetadataName,
  parseAddress,
} from './address-class.ts';
export { type AllowEntry, AllowListError, parseAllowList } from './allow-list.ts';
export {
  type ConnectOptions,
  isOutboundRefused,
  type OutboundFetch,
  outboundAgent,
  outboundClient,
  outboundFetch,
  outboundPool,
  policyConnector,
} from './connector.ts';
export { describeNetworkError, OUTBOUND_REFUSED_MESSAGE } from './describe-error.ts';
export {
  ALLOW_SETTING,
  createOutboundPolicy,
  HOP_HEADER,
  type OutboundPolicy,
  type OutboundPolicyOptions,
  OutboundRefused,
  type RefusalReason,
  type Resolve,
  type ResolvedAddress,
  systemResolve,
} from './policy.ts';
