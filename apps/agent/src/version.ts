/** The version a node's agent reports (`agent_version` in each status report). */
export const AGENT_VERSION = '0.1.0';
